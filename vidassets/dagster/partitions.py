"""The one partitions definition: a partition per execution, keyed by its execution ID."""

import dagster as dg

EXECUTIONS_PARTITIONS_NAME = "executions"
executions_partitions = dg.DynamicPartitionsDefinition(name=EXECUTIONS_PARTITIONS_NAME)
