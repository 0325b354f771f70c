"""The expiry sweep in batches; on PostgreSQL with FOR UPDATE SKIP LOCKED, so the sweeps of
several hub nodes pass each other's rows instead of waiting for them."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import uuid
from pathlib import Path

import sqlalchemy as sa

from ggk.hub.database import create_engine, migrate
from ggk.hub.messages import MessageDeclaration, MessageService
from ggk.hub.parties import PartyRegistry
from ggk.hub.settings import HubSettings
from ggk.hub.storage import FileStore
from ggk.hub.tables import messages
from tests.hub.conftest import HubPki, register_parties


def _send(service: MessageService, registry: PartyRegistry, pki: HubPki, count: int) -> list[str]:
    sender = registry.get(pki.oin["gemeente_a"])
    assert sender is not None
    ids = [str(uuid.uuid4()) for _ in range(count)]
    for message_id in ids:
        service.create(sender, MessageDeclaration(message_id, pki.oin["cbs"], "gmsd.bevestiging",
                                                  None, None, {}, ()))
    return ids


def test_the_sweep_passes_rows_another_node_holds(postgres_url: str, hub_pki: HubPki,
                                                  tmp_path: Path) -> None:
    register_parties(postgres_url, hub_pki)
    engine = create_engine(postgres_url)
    migrate(engine)
    service = MessageService(engine, HubSettings(message_ttl_seconds=1), FileStore(tmp_path))
    service.EXPIRY_BATCH = 2  # several batches
    held, *others = _send(service, PartyRegistry(engine), hub_pki, 5)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    # (the connection is closed first, so a sweep that waited for it could never hang the test)
    with concurrent.futures.ThreadPoolExecutor(1) as pool, engine.connect() as other_node:
        other_node.execute(sa.select(messages.c.id).where(messages.c.id == held)
                           .with_for_update())  # another node's sweep holds this row
        sweep = pool.submit(service.expire_due, later)
        assert sweep.result(timeout=30) == 4  # did not wait for the held row
        other_node.rollback()
    assert service.expire_due(later) == 1  # the row is free again
    with engine.connect() as conn:
        states = set(conn.execute(sa.select(messages.c.state).where(
            messages.c.id.in_([held, *others]))).scalars())
    assert states == {"expired"}
    engine.dispose()
