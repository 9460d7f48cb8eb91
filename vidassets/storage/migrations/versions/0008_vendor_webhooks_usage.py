"""vendor_jobs: webhook token and last delivery, billed seconds; vendor_webhook_deliveries (replays)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("vendor_jobs") as batch:
        batch.add_column(sa.Column("hook_token", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hook", JSONType, nullable=True))
        batch.add_column(sa.Column("billed_seconds", sa.Float, nullable=True))
        batch.create_unique_constraint("uq_vendor_jobs_hook_token", ["hook_token"])
    op.create_table(
        "vendor_webhook_deliveries",
        sa.Column("vendor", sa.String(32), primary_key=True),
        sa.Column("delivery_id", sa.String(128), primary_key=True),
        sa.Column("vendor_job_row", sa.String(32), sa.ForeignKey("vendor_jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_index("ix_vendor_webhook_deliveries_row", "vendor_webhook_deliveries", ["vendor_job_row"])


def downgrade() -> None:
    op.drop_table("vendor_webhook_deliveries")
    with op.batch_alter_table("vendor_jobs") as batch:
        batch.drop_constraint("uq_vendor_jobs_hook_token", type_="unique")
        batch.drop_column("billed_seconds")
        batch.drop_column("hook")
        batch.drop_column("hook_token")
