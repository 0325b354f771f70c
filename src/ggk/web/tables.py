"""The web foundation's own tables (prefix `web_`); applications keep theirs apart."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

accounts = sa.Table(
    "web_accounts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),  # stored lower-case
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(200)),  # argon2id; NULL: OIDC only
    sa.Column("totp_secret", sa.String(64)),
    sa.Column("totp_last_step", sa.BigInteger),  # a code is accepted once
    sa.Column("beheerder", sa.Boolean, nullable=False, default=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

memberships = sa.Table(
    "web_memberships", metadata,
    sa.Column("account_id", sa.Integer, sa.ForeignKey("web_accounts.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("organisation", sa.String(16), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
)

oidc_links = sa.Table(
    "web_oidc_links", metadata,
    sa.Column("issuer", sa.String(500), primary_key=True),
    sa.Column("subject", sa.String(255), primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("web_accounts.id", ondelete="CASCADE"),
              nullable=False),
)

sessions = sa.Table(
    "web_sessions", metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),  # sha256 of the cookie value
    sa.Column("account_id", sa.Integer, sa.ForeignKey("web_accounts.id", ondelete="CASCADE")),
    sa.Column("pending_account_id", sa.Integer),  # password ok, TOTP still to come
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("data", sa.JSON, nullable=False, default=dict),  # OIDC state, flash message
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
)

login_attempts = sa.Table(
    "web_login_attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(400), nullable=False, index=True),  # "email:..." or "addr:..."
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

audit = sa.Table(
    "web_audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("account_id", sa.Integer),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("organisation", sa.String(16), index=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("address", sa.String(64)),
)
