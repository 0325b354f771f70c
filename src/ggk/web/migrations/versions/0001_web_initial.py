"""web initial: accounts, memberships, OIDC links, sessions, login attempts, audit

Revision ID: 0001_web_initial
Revises:
Create Date: 2026-12-05 21:56:06.634225
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_web_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "web_accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("beheerder", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "web_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("organisation", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_audit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_audit_organisation"), ["organisation"], unique=False
        )

    op.create_table(
        "web_login_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_login_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_login_attempts_key"), ["key"], unique=False)

    op.create_table(
        "web_memberships",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["web_accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "organisation"),
    )
    op.create_table(
        "web_oidc_links",
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["web_accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("issuer", "subject"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("pending_account_id", sa.Integer(), nullable=True),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["web_accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_hash"),
    )


def downgrade() -> None:

    op.drop_table("web_sessions")
    op.drop_table("web_oidc_links")
    op.drop_table("web_memberships")
    with op.batch_alter_table("web_login_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_login_attempts_key"))

    op.drop_table("web_login_attempts")
    with op.batch_alter_table("web_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_audit_organisation"))

    op.drop_table("web_audit")
    op.drop_table("web_accounts")
