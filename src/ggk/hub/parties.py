"""Party administration: register, list, revoke. Used by `ggk party` and by authentication."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from ggk.hub import audit
from ggk.hub.database import as_utc, utcnow, writing
from ggk.hub.direct import Direct, result_processor
from ggk.hub.interfaces import Party, PartyError
from ggk.hub.notify import announce_party
from ggk.hub.routing import ROLES
from ggk.hub.tables import parties

_GEMEENTECODE = re.compile(r"GM[0-9]{4}")
_PARTY_BY_OIN = sa.select(parties).where(parties.c.oin == sa.bindparam("oin"))
_PARTY_FIELDS = ("oin", "name", "role", "gemeentecode", "cert_fingerprint", "cert_not_after",
                 "active", "max_message_bytes", "previous_cert_fingerprint",
                 "previous_cert_valid_until")
_PARTY_FIELDS_BY_OIN = sa.select(*(parties.c[f] for f in _PARTY_FIELDS)).where(
    parties.c.oin == sa.bindparam("oin"))


def _party(row: sa.Row) -> Party:
    return Party(
        oin=row.oin, name=row.name, role=row.role, gemeentecode=row.gemeentecode,
        cert_fingerprint=row.cert_fingerprint, active=bool(row.active),
        cert_not_after=as_utc(row.cert_not_after), max_message_bytes=row.max_message_bytes,
        previous_cert_fingerprint=row.previous_cert_fingerprint,
        previous_cert_valid_until=as_utc(row.previous_cert_valid_until),
    )


class PartyRegistry:
    """The hub's parties, stored in `hub_party`."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        # PostgreSQL: a change of a party tells every hub process (NOTIFY `party:<OIN>`), which
        # then reads it again; parties read meanwhile are cached while `caching()` is true
        # (the process listens), so authentication costs no query per request
        self._announcing = engine.dialect.name == "postgresql"
        self.caching: Callable[[], bool] = lambda: False
        self._cache: dict[str, Party] = {}
        self._cache_generation = 0  # bumped by every `forget`
        self._cache_lock = threading.Lock()
        # authentication reads a party on every request: on SQLite straight from the driver
        self._direct = (Direct(_PARTY_FIELDS_BY_OIN, engine.dialect)
                        if engine.dialect.name == "sqlite" else None)
        self._datetime = result_processor(parties.c.cert_not_after.type, engine.dialect)

    def add(
        self,
        cert: Path | bytes,
        *,
        role: str | None = None,
        name: str | None = None,
        gemeentecode: str | None = None,
        max_message_bytes: int | None = None,
        replace: bool = False,
        change_role: bool = False,
        allow_expired: bool = False,
        overlap_seconds: int = 0,
    ) -> Party:
        """Register the holder of `cert` (OIN and name are read from it; role/gemeentecode from
        its ggk hints unless given). `replace` re-registers a known OIN with a new certificate:
        it keeps the registered role and gemeentecode (a certificate's hints cannot promote a
        gemeente to CBS); only `change_role` changes them, and that is audited. During a
        renewal the replaced certificate stays valid for `overlap_seconds` (at most until it
        expires). An expired certificate is refused unless `allow_expired`."""
        from ggk.pki import PkiError, read_identity

        try:
            identity = read_identity(cert)
        except PkiError as e:
            raise PartyError(str(e)) from e
        now = utcnow()
        if identity.not_after < now and not allow_expired:
            raise PartyError(f"the certificate of {identity.oin} expired on "
                             f"{identity.not_after:%Y-%m-%d}; refusing it (--allow-expired "
                             "registers it anyway, it will get no connection)")
        if overlap_seconds < 0:
            raise PartyError("the overlap of a renewal cannot be negative")
        with writing(self.engine) as conn:
            existing = conn.execute(
                sa.select(parties).where(parties.c.oin == identity.oin)).first()
            if existing and not replace:
                raise PartyError(f"party {identity.oin} is already registered (use --replace "
                                 "to register a new certificate)")
            if existing and not change_role:
                for wanted, registered, label in ((role, existing.role, "role"),
                                                  (gemeentecode, existing.gemeentecode,
                                                   "gemeentecode")):
                    if wanted is not None and wanted != registered:
                        raise PartyError(
                            f"party {identity.oin} is registered with {label} {registered!r}; "
                            f"a new certificate keeps it (use --change-role to change it to "
                            f"{wanted!r}; that is audited)")
                role, gemeentecode = existing.role, existing.gemeentecode
            role = role or identity.role
            if role not in ROLES:
                raise PartyError(
                    f"give --role ({', '.join(ROLES)}); the certificate does not say")
            gemeentecode = gemeentecode or identity.gemeentecode
            if role == "gemeente":
                if not gemeentecode or not _GEMEENTECODE.fullmatch(gemeentecode):
                    raise PartyError(
                        f"a gemeente needs --gemeentecode like GM0363 (got {gemeentecode!r})")
            else:
                gemeentecode = None
            values = dict(
                name=name or identity.name, role=role, gemeentecode=gemeentecode,
                cert_fingerprint=identity.fingerprint, cert_not_after=identity.not_after,
                active=True, max_message_bytes=max_message_bytes, revoked_at=None,
                previous_cert_fingerprint=None, previous_cert_valid_until=None,
            )
            if existing:
                if overlap_seconds and existing.cert_fingerprint != identity.fingerprint:
                    until = now + dt.timedelta(seconds=overlap_seconds)
                    old_expiry = as_utc(existing.cert_not_after)
                    values.update(previous_cert_fingerprint=existing.cert_fingerprint,
                                  previous_cert_valid_until=min(until, old_expiry)
                                  if old_expiry else until)
                conn.execute(parties.update().where(parties.c.oin == identity.oin)
                             .values(**values))
            else:
                conn.execute(parties.insert().values(oin=identity.oin, created_at=now,
                                                     **values))
            if gemeentecode:
                other = conn.execute(
                    sa.select(parties.c.oin).where(parties.c.gemeentecode == gemeentecode,
                                                   parties.c.oin != identity.oin,
                                                   parties.c.active.is_(True))).first()
                if other:
                    raise PartyError(f"{gemeentecode} is already registered as party {other.oin}")
            detail: dict[str, object] = {"oin": identity.oin, "role": role,
                                         "fingerprint": identity.fingerprint}
            if existing and (existing.role, existing.gemeentecode) != (role, gemeentecode):
                detail.update(previous_role=existing.role,
                              previous_gemeentecode=existing.gemeentecode,
                              gemeentecode=gemeentecode)
                audit.record(conn, actor="hub", action="party-role-changed", message_id=None,
                             detail=detail)
            if existing and values["previous_cert_valid_until"] is not None:
                detail["previous_fingerprint_valid_until"] = \
                    values["previous_cert_valid_until"].isoformat()  # type: ignore[attr-defined]
            audit.record(conn, actor="hub", action="party-registered" if not existing
                         else "party-certificate-replaced", message_id=None, detail=detail)
            if self._announcing:
                announce_party(conn, identity.oin)
        party = self.get(identity.oin)
        assert party is not None
        return party

    def remove(self, oin: str) -> None:
        """Delete a party (audited). Its messages and audit entries stay; its certificate gets
        403 `unknown-party` from now on."""
        with writing(self.engine) as conn:
            done = conn.execute(parties.delete().where(parties.c.oin == oin))
            if done.rowcount == 0:
                raise PartyError(f"no party with OIN {oin}")
            audit.record(conn, actor="hub", action="party-removed", message_id=None,
                         detail={"oin": oin})
            if self._announcing:
                announce_party(conn, oin)

    def forget(self, oin: str | None) -> None:
        """Read this party (None: every party) from the database again."""
        with self._cache_lock:
            self._cache_generation += 1
            if oin is None:
                self._cache.clear()
            else:
                self._cache.pop(oin, None)

    def cached(self, oin: str) -> Party | None:
        """The party if `get(oin)` would answer it from the cache (None: it would ask)."""
        with self._cache_lock:
            return self._cache.get(oin) if self.caching() else None

    def get(self, oin: str, conn: sa.Connection | None = None) -> Party | None:
        """The party (active or revoked): cached (see `caching`), else read in `conn` if given,
        else in a new connection."""
        if not self.caching():
            return self._read(oin, conn)
        with self._cache_lock:
            cached = self._cache.get(oin)
            generation = self._cache_generation
        if cached is not None:
            return cached
        party = self._read(oin, conn)
        with self._cache_lock:
            # not when forgotten meanwhile: the read may predate the change
            if party is not None and generation == self._cache_generation:
                self._cache[oin] = party
        return party

    def _read(self, oin: str, conn: sa.Connection | None) -> Party | None:
        if conn is not None and self._direct is not None:
            raw = self._direct.execute(conn, {"oin": oin}).fetchone()
            if raw is None:
                return None
            values = dict(zip(_PARTY_FIELDS, raw, strict=True))
            return Party(**{**values, "active": bool(values["active"]),
                            "cert_not_after": as_utc(self._datetime(values["cert_not_after"])),
                            "previous_cert_valid_until": as_utc(self._datetime(
                                values["previous_cert_valid_until"]))})
        if conn is not None:
            row = conn.execute(_PARTY_BY_OIN, {"oin": oin}).first()
        else:
            with self.engine.connect() as own:
                row = own.execute(_PARTY_BY_OIN, {"oin": oin}).first()
        return _party(row) if row else None

    def list(self) -> list[Party]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(parties).order_by(parties.c.role, parties.c.oin)).all()
        return [_party(row) for row in rows]

    def revoke(self, oin: str) -> Party:
        with writing(self.engine) as conn:
            done = conn.execute(parties.update().where(parties.c.oin == oin)
                                .values(active=False, revoked_at=utcnow()))
            if done.rowcount == 0:
                raise PartyError(f"no party with OIN {oin}")
            audit.record(conn, actor="hub", action="party-revoked", message_id=None,
                         detail={"oin": oin})
            if self._announcing:
                announce_party(conn, oin)
        party = self.get(oin)
        assert party is not None
        return party
