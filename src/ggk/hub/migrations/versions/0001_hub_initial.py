"""Hub initial schema: parties, messages, attachments, counters, append-only audit log.

Revision ID: 0001_hub_initial
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_hub_initial"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hub_party",
        sa.Column("oin", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("gemeentecode", sa.String(6), nullable=True),
        sa.Column("cert_fingerprint", sa.String(64), nullable=False),
        sa.Column("cert_not_after", TZ, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("max_message_bytes", sa.BigInteger, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
    )
    op.create_table(
        "hub_message",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("sender", sa.String(20), nullable=False),
        sa.Column("receiver", sa.String(20), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=True),
        sa.Column("in_reply_to", sa.String(36), nullable=True),
        sa.Column("metadata_json", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("refusal_reason", sa.String(100), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("available_at", TZ, nullable=True),
        sa.Column("fetched_at", TZ, nullable=True),
        sa.Column("acknowledged_at", TZ, nullable=True),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("cursor", sa.BigInteger, nullable=True, unique=True),
        sa.Column("change_cursor", sa.BigInteger, nullable=False),
        sa.Column("attachment_count", sa.Integer, nullable=False),
    )
    op.create_index("ix_hub_message_receiver_cursor", "hub_message", ["receiver", "cursor"])
    op.create_index("ix_hub_message_sender_change", "hub_message", ["sender", "change_cursor"])
    op.create_index("ix_hub_message_state_expires", "hub_message", ["state", "expires_at"])
    op.create_table(
        "hub_attachment",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("message_id", sa.String(36), sa.ForeignKey("hub_message.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("upload_offset", sa.BigInteger, nullable=False),
        sa.Column("completed_at", TZ, nullable=True),
        sa.UniqueConstraint("message_id", "name", name="uq_hub_attachment_message_name"),
    )
    op.create_table(
        "hub_counter",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO hub_counter (name, value) VALUES ('cursor', 0)")
    op.create_table(
        "hub_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(20), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_hub_audit_message_id", "hub_audit", ["message_id"])
    # The audit log is append-only, enforced by the database itself.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION hub_audit_append_only() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION 'hub_audit is append-only: % refused', TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER hub_audit_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON hub_audit "
            "FOR EACH STATEMENT EXECUTE FUNCTION hub_audit_append_only()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER hub_audit_no_{operation.lower()} BEFORE {operation} ON hub_audit "
                f"BEGIN SELECT RAISE(ABORT, 'hub_audit is append-only: {operation} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS hub_audit_no_change ON hub_audit")
        op.execute("DROP FUNCTION IF EXISTS hub_audit_append_only()")
    op.drop_table("hub_audit")
    op.drop_table("hub_counter")
    op.drop_table("hub_attachment")
    op.drop_table("hub_message")
    op.drop_table("hub_party")
