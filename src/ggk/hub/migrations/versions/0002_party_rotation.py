"""Overlapping certificate rotation: a party's previous certificate stays valid for a while.

Revision ID: 0002_party_rotation
Revises: 0001_hub_initial
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_party_rotation"
down_revision = "0001_hub_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("hub_party", sa.Column("previous_cert_fingerprint", sa.String(64),
                                         nullable=True))
    op.add_column("hub_party", sa.Column("previous_cert_valid_until",
                                         sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hub_party") as batch:
        batch.drop_column("previous_cert_valid_until")
        batch.drop_column("previous_cert_fingerprint")
