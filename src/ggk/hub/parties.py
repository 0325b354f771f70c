"""Party administration: register, list, revoke. Used by `ggk party` and by authentication."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from ggk.hub import audit
from ggk.hub.database import as_utc, utcnow, writing
from ggk.hub.direct import Direct, result_processor
from ggk.hub.interfaces import Party, PartyError
from ggk.hub.routing import ROLES
from ggk.hub.tables import parties

_GEMEENTECODE = re.compile(r"GM[0-9]{4}")
_PARTY_BY_OIN = sa.select(parties).where(parties.c.oin == sa.bindparam("oin"))
_PARTY_FIELDS = ("oin", "name", "role", "gemeentecode", "cert_fingerprint", "cert_not_after",
                 "active", "max_message_bytes")
_PARTY_FIELDS_BY_OIN = sa.select(*(parties.c[f] for f in _PARTY_FIELDS)).where(
    parties.c.oin == sa.bindparam("oin"))


def _party(row: sa.Row) -> Party:
    return Party(
        oin=row.oin, name=row.name, role=row.role, gemeentecode=row.gemeentecode,
        cert_fingerprint=row.cert_fingerprint, active=bool(row.active),
        cert_not_after=as_utc(row.cert_not_after), max_message_bytes=row.max_message_bytes,
    )


class PartyRegistry:
    """The hub's parties, stored in `hub_party`."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
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
    ) -> Party:
        """Register the holder of `cert` (OIN and name are read from it; role/gemeentecode from
        its ggk hints unless given). `replace` re-registers a known OIN with a new certificate."""
        from ggk.pki import PkiError, read_identity

        try:
            identity = read_identity(cert)
        except PkiError as e:
            raise PartyError(str(e)) from e
        role = role or identity.role
        if role not in ROLES:
            raise PartyError(f"give --role ({', '.join(ROLES)}); the certificate does not say")
        gemeentecode = gemeentecode or identity.gemeentecode
        if role == "gemeente":
            if not gemeentecode or not _GEMEENTECODE.fullmatch(gemeentecode):
                raise PartyError(
                    f"a gemeente needs --gemeentecode like GM0363 (got {gemeentecode!r})")
        else:
            gemeentecode = None
        values = dict(
            name=name or identity.name, role=role, gemeentecode=gemeentecode,
            cert_fingerprint=identity.fingerprint, cert_not_after=identity.not_after, active=True,
            max_message_bytes=max_message_bytes, revoked_at=None,
        )
        with writing(self.engine) as conn:
            existing = conn.execute(
                sa.select(parties.c.oin).where(parties.c.oin == identity.oin)).first()
            if existing and not replace:
                raise PartyError(f"party {identity.oin} is already registered (use --replace "
                                 "to register a new certificate)")
            if existing:
                conn.execute(parties.update().where(parties.c.oin == identity.oin).values(**values))
            else:
                conn.execute(parties.insert().values(oin=identity.oin, created_at=utcnow(),
                                                     **values))
            if gemeentecode:
                other = conn.execute(
                    sa.select(parties.c.oin).where(parties.c.gemeentecode == gemeentecode,
                                                   parties.c.oin != identity.oin,
                                                   parties.c.active.is_(True))).first()
                if other:
                    raise PartyError(f"{gemeentecode} is already registered as party {other.oin}")
            audit.record(conn, actor="hub", action="party-registered" if not existing
                         else "party-certificate-replaced", message_id=None,
                         detail={"oin": identity.oin, "role": role, "fingerprint":
                                 identity.fingerprint})
        party = self.get(identity.oin)
        assert party is not None
        return party

    def get(self, oin: str, conn: sa.Connection | None = None) -> Party | None:
        """The party (active or revoked), read in `conn` if given, else in a new connection."""
        if conn is not None and self._direct is not None:
            raw = self._direct.execute(conn, {"oin": oin}).fetchone()
            if raw is None:
                return None
            values = dict(zip(_PARTY_FIELDS, raw, strict=True))
            return Party(**{**values, "active": bool(values["active"]),
                            "cert_not_after": as_utc(self._datetime(values["cert_not_after"]))})
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
        party = self.get(oin)
        assert party is not None
        return party
