"""executions.partition_at / archived_at: bounded Dagster partitions (retention window)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("partition_at", TS, nullable=True))
        batch.add_column(sa.Column("archived_at", TS, nullable=True))
    # Every existing execution has its partition: it entered Dagster when it was created.
    op.execute("UPDATE executions SET partition_at = created_at")
    op.create_index("ix_executions_partition_at", "executions", ["partition_at"])


def downgrade() -> None:
    op.drop_index("ix_executions_partition_at", table_name="executions")
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("archived_at")
        batch.drop_column("partition_at")
