"""console initial: onboardings and their steps

Revision ID: 0001_console_initial
Revises:
Create Date: 2026-12-05 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_console_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_onboardings",
        sa.Column("gemeente", sa.String(length=16), nullable=False),
        sa.Column("naam", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=320), nullable=False),
        sa.PrimaryKeyConstraint("gemeente"),
    )
    op.create_table(
        "console_onboarding_steps",
        sa.Column("gemeente", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_by", sa.String(length=320), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("gemeente", "step"),
    )


def downgrade() -> None:
    op.drop_table("console_onboarding_steps")
    op.drop_table("console_onboardings")
