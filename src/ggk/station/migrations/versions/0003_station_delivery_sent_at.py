"""Deliveries remember when the municipality sent them (on the station's clock), so the
evaluation can measure the time from delivery to technical report and to spiegelrapport.

Revision ID: 0003_station_delivery_sent_at
Revises: 0002_station_failures
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_station_delivery_sent_at"
down_revision = "0002_station_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("station_deliveries") as batch:
        batch.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("station_deliveries") as batch:
        batch.drop_column("sent_at")
