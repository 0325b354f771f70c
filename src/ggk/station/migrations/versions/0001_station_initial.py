"""Station initial schema: processed messages, claims, deliveries (versions), workflow, extensions,
audit trail.

Revision ID: 0001_station_initial
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_station_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "station_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("statistic", sa.String(length=32), nullable=True),
        sa.Column("period", sa.String(length=16), nullable=True),
        sa.Column("gemeente", sa.String(length=6), nullable=True),
        sa.Column("dataset", sa.String(length=32), nullable=True),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "station_claims",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_table(
        "station_deliveries",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("statistic", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("gemeente", sa.String(length=6), nullable=False),
        sa.Column("dataset", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("parquet_path", sa.String(length=500), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw_purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("message_id"),
        sa.UniqueConstraint(
            "statistic",
            "period",
            "gemeente",
            "dataset",
            "version",
            name="uq_station_delivery_version",
        ),
    )
    op.create_table(
        "station_extensions",
        sa.Column("statistic", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("gemeente", sa.String(length=6), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("statistic", "period", "gemeente"),
    )
    op.create_table(
        "station_processed_messages",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("reply_type", sa.String(length=64), nullable=True),
        sa.Column("reply_id", sa.String(length=64), nullable=True),
        sa.Column("reply_metadata", sa.JSON(), nullable=True),
        sa.Column("reply_dir", sa.String(length=500), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_table(
        "station_workflow",
        sa.Column("statistic", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("gemeente", sa.String(length=6), nullable=False),
        sa.Column("dataset", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("accepted_version", sa.Integer(), nullable=True),
        sa.Column("versions", sa.Integer(), nullable=False),
        sa.Column("last_delivery_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("statistic", "period", "gemeente", "dataset"),
    )


def downgrade() -> None:
    op.drop_table("station_workflow")
    op.drop_table("station_processed_messages")
    op.drop_table("station_extensions")
    op.drop_table("station_deliveries")
    op.drop_table("station_claims")
    op.drop_table("station_audit")
