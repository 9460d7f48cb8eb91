"""Running plans: the per-operation handlers and the DAG executor (no Dagster imports here)."""
