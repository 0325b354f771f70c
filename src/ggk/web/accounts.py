"""Accounts: argon2id password hashes (argon2-cffi), optional TOTP (pyotp), OIDC links, roles."""

from __future__ import annotations

from collections.abc import Sequence

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ggk.clock import utcnow
from ggk.web import tables as t
from ggk.web.interfaces import (
    INTERNAL,
    INTERNAL_ROLES,
    MEMBERSHIP_ROLES,
    AccountError,
    LoginRefused,
    Membership,
    User,
)

REFUSED = "E-mailadres of wachtwoord klopt niet, of het account is uitgeschakeld."
# Verifying against this hash when the e-mail is unknown keeps the answer time the same.
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("ggk-no-such-account")


class AccountStore:
    """`ggk.web.interfaces.Accounts` on the web_* tables."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def create(self, email: str, name: str, password: str | None, *, beheerder: bool = False,
               memberships: Sequence[Membership] = ()) -> User:
        email = email.strip().lower()
        if "@" not in email:
            raise AccountError(f"not an e-mail address: {email!r}")
        for membership in memberships:
            allowed = INTERNAL_ROLES if membership.organisation == INTERNAL else MEMBERSHIP_ROLES
            if membership.role not in allowed:
                raise AccountError(f"unknown role {membership.role!r} for "
                                   f"{membership.organisation}: use one of {', '.join(allowed)}")
        if password is not None and len(password) < 12:
            raise AccountError("a password needs at least 12 characters")
        with self.engine.begin() as conn:
            if conn.execute(sa.select(t.accounts.c.id).where(t.accounts.c.email == email)).first():
                raise AccountError(f"an account with e-mail {email} exists already")
            account_id = conn.execute(sa.insert(t.accounts).values(
                email=email, name=name, beheerder=beheerder, active=True, created_at=utcnow(),
                password_hash=_HASHER.hash(password) if password is not None else None,
            )).inserted_primary_key[0]
            for membership in memberships:
                conn.execute(sa.insert(t.memberships).values(
                    account_id=account_id, organisation=membership.organisation,
                    role=membership.role))
        user = self.get(int(account_id))
        assert user is not None
        return user

    def set_memberships(self, user_id: int, memberships: Sequence[Membership]) -> None:
        """Replace the memberships of an account."""
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t.memberships).where(t.memberships.c.account_id == user_id))
            for membership in memberships:
                conn.execute(sa.insert(t.memberships).values(
                    account_id=user_id, organisation=membership.organisation,
                    role=membership.role))

    def _users(self, where: sa.ColumnElement[bool] | None) -> list[User]:
        a, m = t.accounts, t.memberships
        query = sa.select(a).order_by(a.c.email)
        if where is not None:
            query = query.where(where)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            ids = [row.id for row in rows]
            found: dict[int, list[Membership]] = {}
            if ids:
                for row in conn.execute(sa.select(m).where(m.c.account_id.in_(ids))):
                    found.setdefault(row.account_id, []).append(
                        Membership(row.organisation, row.role))
        return [User(row.id, row.email, row.name, bool(row.beheerder), bool(row.active),
                     row.totp_secret is not None,
                     tuple(sorted(found.get(row.id, []), key=lambda x: x.organisation)))
                for row in rows]

    def get(self, user_id: int) -> User | None:
        users = self._users(t.accounts.c.id == user_id)
        return users[0] if users else None

    def by_email(self, email: str) -> User | None:
        users = self._users(t.accounts.c.email == email.strip().lower())
        return users[0] if users else None

    def all(self) -> list[User]:
        return self._users(None)

    def members_of(self, organisation: str) -> list[User]:
        members = sa.select(t.memberships.c.account_id).where(
            t.memberships.c.organisation == organisation)
        return self._users(sa.and_(t.accounts.c.id.in_(members), t.accounts.c.active))

    def verify_password(self, email: str, password: str) -> User:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.accounts).where(
                t.accounts.c.email == email.strip().lower())).first()
        stored = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
        try:
            _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            raise LoginRefused(REFUSED) from None
        if row is None or not row.password_hash or not row.active:
            raise LoginRefused(REFUSED)
        if _HASHER.check_needs_rehash(row.password_hash):
            with self.engine.begin() as conn:
                conn.execute(sa.update(t.accounts).where(t.accounts.c.id == row.id).values(
                    password_hash=_HASHER.hash(password)))
        user = self.get(row.id)
        assert user is not None
        return user

    def set_active(self, user_id: int, active: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.accounts).where(t.accounts.c.id == user_id).values(
                active=active))

    def enable_totp(self, user_id: int) -> str:
        secret = pyotp.random_base32()
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.accounts).where(t.accounts.c.id == user_id).values(
                totp_secret=secret, totp_last_step=None))
        return secret

    def verify_totp(self, user_id: int, code: str) -> bool:
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(t.accounts.c.totp_secret, t.accounts.c.totp_last_step)
                               .where(t.accounts.c.id == user_id)).first()
            if row is None or not row.totp_secret:
                return False
            totp = pyotp.TOTP(row.totp_secret)
            now = utcnow()
            for drift in (0, -1, 1):
                at = now.timestamp() + drift * totp.interval
                step = int(at // totp.interval)
                if totp.at(int(at)) == code.strip() and (
                        row.totp_last_step is None or step > row.totp_last_step):
                    conn.execute(sa.update(t.accounts).where(t.accounts.c.id == user_id)
                                 .values(totp_last_step=step))
                    return True
        return False

    def link_oidc(self, user_id: int, issuer: str, subject: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t.oidc_links).where(t.oidc_links.c.issuer == issuer,
                                                       t.oidc_links.c.subject == subject))
            conn.execute(sa.insert(t.oidc_links).values(issuer=issuer, subject=subject,
                                                        account_id=user_id))

    def by_oidc(self, issuer: str, subject: str) -> User | None:
        with self.engine.connect() as conn:
            account_id = conn.execute(sa.select(t.oidc_links.c.account_id).where(
                t.oidc_links.c.issuer == issuer, t.oidc_links.c.subject == subject)).scalar()
        user = self.get(account_id) if account_id is not None else None
        return user if user is not None and user.active else None
