"""The console's own tables (prefix `console_`): the onboarding of new municipalities."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

onboardings = sa.Table(
    "console_onboardings", metadata,
    sa.Column("gemeente", sa.String(16), primary_key=True),
    sa.Column("naam", sa.String(200), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_by", sa.String(320), nullable=False),
)

# One row per step ticked off; a step is done when it has a row.
onboarding_steps = sa.Table(
    "console_onboarding_steps", metadata,
    sa.Column("gemeente", sa.String(16), primary_key=True),
    sa.Column("step", sa.String(32), primary_key=True),
    sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("done_by", sa.String(320), nullable=False),
    sa.Column("note", sa.String(500), nullable=True),
)
