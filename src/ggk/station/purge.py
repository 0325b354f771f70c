"""Retention: raw delivered files are deleted after `retention_days`; accepted data (pseudonymised
Parquet), the database rows and the sent reports stay."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ggk.clock import Clock
from ggk.station import records
from ggk.station import tables as t
from ggk.station.storage import FileStore


def purge_raw(engine: sa.Engine, store: FileStore, clock: Clock, retention_days: int) -> int:
    """Delete raw files whose deliveries are all older than the retention; returns files deleted."""
    now = clock.now()
    cutoff = now - dt.timedelta(days=retention_days)
    d = t.deliveries
    with engine.begin() as conn:
        expired = conn.execute(sa.select(d.c.message_id, d.c.sha256).where(
            d.c.raw_purged_at.is_(None), d.c.received_at < cutoff)).all()
        young = {row.sha256 for row in conn.execute(sa.select(d.c.sha256).where(
            d.c.raw_purged_at.is_(None), d.c.received_at >= cutoff))}
        deleted = 0
        for message_id, sha in expired:
            if sha not in young and store.delete_raw(sha):
                deleted += 1
            conn.execute(sa.update(d).where(d.c.message_id == message_id).values(
                raw_purged_at=now))
        if expired:
            records.write_audit(conn, now, "purge", detail=(
                f"{deleted} raw files deleted for {len(expired)} deliveries older than "
                f"{retention_days} days"))
    return deleted
