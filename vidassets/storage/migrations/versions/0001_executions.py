"""executions and execution_jobs

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "executions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, server_default="default"),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("plan", JSONType, nullable=False),
        sa.Column("base_execution_id", sa.String(64), nullable=True),
        sa.Column("webhook_url", sa.Text, nullable=True),
        sa.Column("webhook_secret_enc", sa.Text, nullable=True),
        sa.Column("secrets_enc", sa.Text, nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("launch_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("launch_error", sa.Text, nullable=True),
        sa.Column("launched_at", TS, nullable=True),
        sa.Column("cancel_requested_at", TS, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("result", JSONType, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("completed_at", TS, nullable=True),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_executions_tenant_idempotency"),
    )
    op.create_index("ix_executions_tenant_id", "executions", ["tenant_id"])
    op.create_index("ix_executions_status", "executions", ["status"])
    op.create_index("ix_executions_run_id", "executions", ["run_id"])
    op.create_index("ix_executions_tenant_created", "executions", ["tenant_id", "id"])
    op.create_table(
        "execution_jobs",
        sa.Column("execution_id", sa.String(64), sa.ForeignKey("executions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("job_id", sa.String(128), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("params", JSONType, nullable=False),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("depends_on", JSONType, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("result", JSONType, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("execution_jobs")
    op.drop_table("executions")
