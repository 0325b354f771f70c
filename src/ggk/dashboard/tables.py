"""The dashboard's own tables (prefix `dashboard_`), beside ggk.web's `web_` tables."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# Who at a municipality CBS e-mails about its delivery (extension granted, reminders).
contacts = sa.Table(
    "dashboard_contacts", metadata,
    sa.Column("gemeente", sa.String(16), primary_key=True),
    sa.Column("email", sa.String(320), primary_key=True),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("added_by", sa.String(320), nullable=False),
)
