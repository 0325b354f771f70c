"""The SQLite send path on the driver connection (ggk.hub.direct) stores exactly what
SQLAlchemy's path stores, and reads parties the same."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from pathlib import Path

from ggk.hub.database import create_engine, migrate
from ggk.hub.messages import MessageDeclaration, MessageService
from ggk.hub.parties import PartyRegistry
from ggk.hub.settings import HubSettings
from ggk.hub.storage import FileStore
from ggk.hub.tables import parties


def test_direct_and_sqlalchemy_paths_store_the_same(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.sqlite'}")
    migrate(engine)
    with engine.begin() as conn:
        for oin, role, code in (("1" * 20, "gemeente", "GM0363"), ("2" * 20, "cbs", None)):
            conn.execute(parties.insert().values(
                oin=oin, name="x", role=role, gemeentecode=code, cert_fingerprint="f" * 64,
                active=True, created_at=dt.datetime.now(dt.UTC),
                cert_not_after=dt.datetime(2030, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)))
    registry = PartyRegistry(engine)
    with engine.connect() as conn:
        direct_party = registry.get("1" * 20, conn)
        assert registry.get("3" * 20, conn) is None
    registry._direct = None
    with engine.connect() as conn:
        assert registry.get("1" * 20, conn) == direct_party
    assert direct_party is not None and direct_party.active

    service = MessageService(engine, HubSettings(data_dir=tmp_path), FileStore(tmp_path / "s"))
    fixed = dt.datetime(2026, 11, 29, 4, 5, 6, 789012, tzinfo=dt.UTC)
    import ggk.hub.messages as module

    def send() -> str:
        declaration = MessageDeclaration(
            id=str(uuid.uuid4()), receiver="2" * 20, type="t", conversation_id="c",
            in_reply_to=None, metadata={"a": [1, "é"]}, attachments=())
        message, created = service.create(direct_party, declaration)
        assert created and message.state == "available"
        assert service.create(direct_party, declaration)[1] is False  # duplicate: the original
        return message.id

    original = module.utcnow
    module.utcnow = lambda: fixed  # type: ignore[assignment]
    try:
        first = send()
        service._direct = None
        second = send()
    finally:
        module.utcnow = original  # type: ignore[assignment]
    engine.dispose()
    raw = sqlite3.connect(tmp_path / "hub.sqlite")
    rows = {r[0]: r[1:] for r in raw.execute("SELECT * FROM hub_message")}
    audits = {m: raw.execute("SELECT at, actor, action, detail FROM hub_audit WHERE message_id = ? "
                             "ORDER BY id", (m,)).fetchall() for m in (first, second)}
    raw.close()
    # the same columns, types and formats; only the cursors differ
    a, b = rows[first], rows[second]
    cursor_columns = {14, 15}  # cursor, change_cursor (after the id)
    assert [v for i, v in enumerate(a) if i not in cursor_columns] == [
        v for i, v in enumerate(b) if i not in cursor_columns]
    assert [type(v) for v in a] == [type(v) for v in b]
    assert audits[first] == audits[second] and len(audits[first]) == 2
