"""The one partitions definition: a partition per execution, keyed by its execution ID."""

import dagster as dg

from vidassets.contract import PARTITIONS_DEF_NAME

executions_partitions = dg.DynamicPartitionsDefinition(name=PARTITIONS_DEF_NAME)
