"""Accounts: argon2id password hashes (argon2-cffi), optional TOTP (pyotp), OIDC links, roles."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
    AuditLog,
    LoginRefused,
    Membership,
    User,
)

PASSWORD_MIN_LENGTH = 12
TOTP_ISSUER = "ggk portaal"
SessionEnder = Callable[[int], object]  # ends every session of an account id
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
        if password is not None and len(password) < PASSWORD_MIN_LENGTH:
            raise AccountError(f"a password needs at least {PASSWORD_MIN_LENGTH} characters")
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

    def has_password(self, user_id: int) -> bool:
        """Whether this account has a local password (False: OIDC only)."""
        with self.engine.connect() as conn:
            stored = conn.execute(sa.select(t.accounts.c.password_hash).where(
                t.accounts.c.id == user_id)).scalar()
        return stored is not None

    def change_password(self, user_id: int, current: str, new: str) -> None:
        """Replace the password after checking the current one: LoginRefused (Dutch) when the
        current password is wrong, AccountError when the new one is too short."""
        if len(new) < PASSWORD_MIN_LENGTH:
            raise AccountError(f"a password needs at least {PASSWORD_MIN_LENGTH} characters")
        with self.engine.connect() as conn:
            stored = conn.execute(sa.select(t.accounts.c.password_hash).where(
                t.accounts.c.id == user_id)).scalar()
        try:
            _HASHER.verify(stored or _DUMMY_HASH, current)
        except (VerificationError, InvalidHashError):
            raise LoginRefused("Het huidige wachtwoord klopt niet.") from None
        if stored is None:
            raise LoginRefused("Het huidige wachtwoord klopt niet.")
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.accounts).where(t.accounts.c.id == user_id).values(
                password_hash=_HASHER.hash(new)))

    def enable_totp(self, user_id: int) -> str:
        secret = pyotp.random_base32()
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.accounts).where(t.accounts.c.id == user_id).values(
                totp_secret=secret, totp_last_step=None))
        return secret

    def confirm_totp(self, user_id: int, secret: str, code: str) -> bool:
        """Turn TOTP on with `secret` (not stored before) only when `code` is a current code of
        it; the code then counts as used. False (and nothing stored) otherwise."""
        step = _matching_step(secret, code, None)
        if step is None:
            return False
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.accounts).where(t.accounts.c.id == user_id).values(
                totp_secret=secret, totp_last_step=step))
        return True

    def disable_totp(self, user_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.accounts).where(t.accounts.c.id == user_id).values(
                totp_secret=None, totp_last_step=None))

    def verify_totp(self, user_id: int, code: str) -> bool:
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(t.accounts.c.totp_secret, t.accounts.c.totp_last_step)
                               .where(t.accounts.c.id == user_id)).first()
            if row is None or not row.totp_secret:
                return False
            step = _matching_step(row.totp_secret, code, row.totp_last_step)
            if step is None:
                return False
            conn.execute(sa.update(t.accounts).where(t.accounts.c.id == user_id)
                         .values(totp_last_step=step))
        return True

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


def _matching_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step (now, or one either side) whose code is `code` and is newer than
    `last_step`; None when there is none."""
    totp = pyotp.TOTP(secret)
    now = utcnow().timestamp()
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        step = int(at // totp.interval)
        if totp.at(int(at)) == code.strip() and (last_step is None or step > last_step):
            return step
    return None


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app reads (typed in or as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def memberships_for(medewerker: Sequence[str] = (), alleen_lezen: Sequence[str] = ()
                    ) -> list[Membership]:
    """Memberships from gemeentecodes per role (the CLI's options, the beheer form)."""
    return [Membership(c.strip().upper(), "medewerker") for c in medewerker] + [
        Membership(c.strip().upper(), "alleen-lezen") for c in alleen_lezen]


# -- account administration: the one recipe for `ggk portal user ...` and the beheer pages -----
# `actor` None is the operator at the command line; otherwise the beheerder in the browser.


def add_account(accounts: AccountStore, audit: AuditLog, actor: User | None, email: str,
                name: str, password: str | None, *, memberships: Sequence[Membership] = (),
                beheerder: bool = False, address: str | None = None) -> User:
    """Create an account and record who did it; AccountError (English) when it cannot be."""
    user = accounts.create(email, name, password, beheerder=beheerder, memberships=memberships)
    roles = ", ".join(f"{m.role} {m.organisation}" for m in user.memberships)
    audit.record(actor, "account.create",
                 f"account {user.email} aangemaakt ({'beheerder' if beheerder else roles or '-'})"
                 f"{'' if actor else ' via de opdrachtregel'}",
                 organisation=_single_organisation(memberships), address=address,
                 email=None if actor else "cli")
    return user


def disable_account(accounts: AccountStore, audit: AuditLog, end_sessions: SessionEnder,
                    actor: User | None, user: User, *, address: str | None = None) -> None:
    """Switch an account off and end its sessions."""
    accounts.set_active(user.id, False)
    end_sessions(user.id)
    audit.record(actor, "account.disable", f"account {user.email} uitgeschakeld",
                 organisation=_single_organisation(user.memberships), address=address,
                 email=None if actor else "cli")


def reset_totp(accounts: AccountStore, audit: AuditLog, actor: User | None, user: User, *,
               address: str | None = None, new_secret: bool = False) -> str | None:
    """Take an account's TOTP away (it logs in with the password only and can set it up again
    on 'Mijn account'); with `new_secret` give it a fresh secret instead, returned."""
    secret = accounts.enable_totp(user.id) if new_secret else None
    if secret is None:
        accounts.disable_totp(user.id)
    audit.record(actor, "account.totp-reset",
                 f"tweestapsverificatie van {user.email} "
                 f"{'opnieuw ingesteld' if new_secret else 'uitgezet'}",
                 organisation=_single_organisation(user.memberships), address=address,
                 email=None if actor else "cli")
    return secret


def _single_organisation(memberships: Sequence[Membership]) -> str | None:
    """The gemeente an entry is about when the account belongs to exactly one (its logboek)."""
    codes = {m.organisation for m in memberships if m.organisation != INTERNAL}
    return codes.pop() if len(codes) == 1 else None
