"""job columns for metrics: elapsed_s, provider, cache_hit

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("execution_jobs") as batch:
        batch.add_column(sa.Column("elapsed_s", sa.Float, nullable=True))
        batch.add_column(sa.Column("provider", sa.String(64), nullable=True))
        batch.add_column(sa.Column("cache_hit", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_execution_jobs_status", "execution_jobs", ["status"])


def downgrade() -> None:
    op.drop_index("ix_execution_jobs_status", "execution_jobs")
    with op.batch_alter_table("execution_jobs") as batch:
        batch.drop_column("cache_hit")
        batch.drop_column("provider")
        batch.drop_column("elapsed_s")
