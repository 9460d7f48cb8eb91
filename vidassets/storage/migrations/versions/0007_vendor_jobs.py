"""vendor_jobs: the vendor-job ledger (a crash never pays a vendor twice)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "vendor_jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("execution_id", sa.String(64), sa.ForeignKey("executions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("job_id", sa.String(128), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("vendor_attempt", sa.Integer, nullable=False),
        sa.Column("vendor", sa.String(32), nullable=False),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("input_digest", sa.String(64), nullable=False),
        sa.Column("vendor_job_id", sa.String(255), nullable=True),
        sa.Column("get_url", sa.Text, nullable=True),
        sa.Column("cancel_url", sa.Text, nullable=True),
        sa.Column("urls", JSONType, nullable=True),
        sa.Column("holder", sa.String(160), nullable=True),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("posts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("vendor_status", sa.String(32), nullable=True),
        sa.Column("output_url", sa.Text, nullable=True),
        sa.Column("usage", JSONType, nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("evidence", JSONType, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("submitted_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("execution_id", "job_id", "step", "vendor_attempt", name="uq_vendor_jobs_attempt"),
        sa.UniqueConstraint("vendor", "vendor_job_id", name="uq_vendor_jobs_vendor_job"),
    )
    op.create_index("ix_vendor_jobs_execution_id", "vendor_jobs", ["execution_id"])
    op.create_index("ix_vendor_jobs_status", "vendor_jobs", ["status"])


def downgrade() -> None:
    op.drop_table("vendor_jobs")
