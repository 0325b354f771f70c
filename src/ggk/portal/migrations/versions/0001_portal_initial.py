"""portal initial: gemeenten, uploads, sent notices, notifications

Revision ID: 0001_portal_initial
Revises:
Create Date: 2026-12-05 21:56:06.663263
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_portal_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "portal_gemeenten",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("oin", sa.String(length=20), nullable=False),
        sa.Column("cert_path", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "portal_notifications",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "portal_sent",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("gemeente", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("report_key", sa.String(length=400), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("by", sa.String(length=320), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("portal_sent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_sent_gemeente"), ["gemeente"], unique=False)

    op.create_table(
        "portal_uploads",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("gemeente", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("sent_bytes", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("portal_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_uploads_gemeente"), ["gemeente"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("portal_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_uploads_gemeente"))

    op.drop_table("portal_uploads")
    with op.batch_alter_table("portal_sent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_sent_gemeente"))

    op.drop_table("portal_sent")
    op.drop_table("portal_notifications")
    op.drop_table("portal_gemeenten")
