"""The hub's tables (SQLAlchemy Core). Only the hub package reads or writes them."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

parties = sa.Table(
    "hub_party",
    metadata,
    sa.Column("oin", sa.String(20), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("gemeentecode", sa.String(6), nullable=True),
    sa.Column("cert_fingerprint", sa.String(64), nullable=False),
    sa.Column("cert_not_after", sa.DateTime(timezone=True), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("max_message_bytes", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    # overlapping rotation: the certificate replaced last stays valid until then
    sa.Column("previous_cert_fingerprint", sa.String(64), nullable=True),
    sa.Column("previous_cert_valid_until", sa.DateTime(timezone=True), nullable=True),
)

messages = sa.Table(
    "hub_message",
    metadata,
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
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("available_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    # inbox cursor: assigned once, when the message becomes available
    sa.Column("cursor", sa.BigInteger, nullable=True, unique=True),
    # outbox cursor: re-assigned on every state change, so a sender can follow its messages
    sa.Column("change_cursor", sa.BigInteger, nullable=False),
    sa.Column("attachment_count", sa.Integer, nullable=False),
    sa.Index("ix_hub_message_receiver_cursor", "receiver", "cursor"),
    sa.Index("ix_hub_message_sender_change", "sender", "change_cursor"),
    sa.Index("ix_hub_message_state_expires", "state", "expires_at"),
)

attachments = sa.Table(
    "hub_attachment",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # also the tus upload id
    sa.Column("message_id", sa.String(36), sa.ForeignKey("hub_message.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(200), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),  # pending | complete | refused
    sa.Column("upload_offset", sa.BigInteger, nullable=False, default=0),
    sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("message_id", "name", name="uq_hub_attachment_message_name"),
)

counters = sa.Table(
    "hub_counter",
    metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

audit_log = sa.Table(
    "hub_audit",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(20), nullable=False),  # OIN, or "hub" for the hub itself
    sa.Column("action", sa.String(50), nullable=False),
    sa.Column("message_id", sa.String(36), nullable=True, index=True),
    sa.Column("detail", sa.Text, nullable=False),
)
