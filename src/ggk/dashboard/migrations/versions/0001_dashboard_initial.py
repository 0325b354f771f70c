"""dashboard initial: contacts per gemeente

Revision ID: 0001_dashboard_initial
Revises:
Create Date: 2026-12-05 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_dashboard_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_contacts",
        sa.Column("gemeente", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=320), nullable=False),
        sa.PrimaryKeyConstraint("gemeente", "email"),
    )


def downgrade() -> None:
    op.drop_table("dashboard_contacts")
