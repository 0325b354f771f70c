"""The portal's own tables (prefix `portal_`), beside ggk.web's `web_` tables."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

gemeenten = sa.Table(
    "portal_gemeenten", metadata,
    sa.Column("code", sa.String(16), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("oin", sa.String(20), nullable=False),
    sa.Column("cert_path", sa.String(1000), nullable=False),
)

uploads = sa.Table(
    "portal_uploads", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("gemeente", sa.String(16), nullable=False, index=True),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("dataset", sa.String(64), nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("offset", sa.BigInteger, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_by", sa.String(320), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("verdict", sa.String(16)),
    sa.Column("report", sa.JSON),
    sa.Column("message_id", sa.String(64)),
    sa.Column("sent_bytes", sa.BigInteger, nullable=False, default=0),
    sa.Column("error", sa.Text),
)

# What people sent through the portal besides deliveries: flag comments, extension requests,
# besluiten (the message ids, so the pages can show them and CBS's answers)
sent = sa.Table(
    "portal_sent", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("gemeente", sa.String(16), nullable=False, index=True),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),  # toelichting | uitstelverzoek | besluit
    sa.Column("subject", sa.String(200), nullable=False),  # indicator/soort, dataset, besluit
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("report_key", sa.String(400)),
    sa.Column("message_id", sa.String(64), nullable=False),
    sa.Column("by", sa.String(320), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

notifications = sa.Table(
    "portal_notifications", metadata,
    sa.Column("key", sa.String(400), primary_key=True),  # what was announced, once
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
