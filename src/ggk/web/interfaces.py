"""Contract of ggk.web: the web foundation shared by the municipality portal (ggk.portal) and the
CBS dashboard and operator console that build on it.

ggk.web owns accounts (argon2 passwords, optional TOTP, OIDC subjects), memberships and roles,
server-side sessions with a CSRF token each, the login rate limit, the audit trail of actions
("namens": which person of which gemeente did what), mail sending and the base layout. An
application adds its own pages with `ggk.web.app.create_web_app` and reads the logged-in person
with `current_user`. User-facing texts are Dutch; exceptions raised at operators are English.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

# A membership role for one organisation (a gemeente): medewerker may act, alleen-lezen may look.
MembershipRole = Literal["medewerker", "alleen-lezen"]
MEMBERSHIP_ROLES: tuple[MembershipRole, ...] = ("medewerker", "alleen-lezen")
# Internal roles (CBS's collection managers, the hub operator) are memberships of the reserved
# organisation INTERNAL, which is never a gemeentecode: a municipality's account never holds one.
# An application that is only for one of them sets `WebConfig.required_role`.
INTERNAL = "intern"
InternalRole = Literal["verzamelbeheer", "hub-operator"]
INTERNAL_ROLES: tuple[InternalRole, ...] = ("verzamelbeheer", "hub-operator")


class WebError(Exception):
    """Base of the web foundation's errors."""


class AccountError(WebError):
    """An account cannot be created or changed (duplicate e-mail, bad role); English."""


class LoginRefused(WebError):
    """Wrong e-mail, password or TOTP code, or a disabled account. The message is Dutch and
    never says which of these it was."""


class TooManyAttempts(WebError):
    """The login rate limit was reached for this account or address (Dutch message)."""


class CsrfRefused(WebError):
    """A state-changing request without the session's CSRF token."""


@dataclass(frozen=True, slots=True)
class Membership:
    organisation: str  # gemeentecode, e.g. GM0363, or INTERNAL for an internal role
    role: MembershipRole | InternalRole


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    name: str
    beheerder: bool = False  # the operator's administrator: accounts and the audit trail
    active: bool = True
    totp_enabled: bool = False
    memberships: tuple[Membership, ...] = field(default_factory=tuple)

    def role_for(self, organisation: str) -> MembershipRole | None:
        """The role this user has for `organisation`, None when not a member."""
        for membership in self.memberships:
            if membership.organisation == organisation:
                return membership.role
        return None

    def has_internal_role(self, role: InternalRole) -> bool:
        """True when this account holds the internal role (membership of INTERNAL)."""
        return any(m.organisation == INTERNAL and m.role == role for m in self.memberships)

    def may_act_for(self, organisation: str) -> bool:
        return self.role_for(organisation) == "medewerker"

    @property
    def organisations(self) -> tuple[str, ...]:
        """The gemeenten this account is a member of (internal roles are not an organisation)."""
        return tuple(sorted(m.organisation for m in self.memberships
                            if m.organisation != INTERNAL))


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: dt.datetime
    user_id: int | None
    user_email: str
    organisation: str | None  # namens which gemeente (None: not for a gemeente, e.g. login)
    action: str  # short English verb-noun, e.g. "login", "upload.send", "besluit.opt-in"
    detail: str  # Dutch or neutral detail for the trail
    address: str | None  # client address as the portal saw it


class Accounts(Protocol):
    """Local accounts and OIDC-linked accounts (implemented by ggk.web.accounts.AccountStore)."""

    def create(self, email: str, name: str, password: str | None, *, beheerder: bool = False,
               memberships: Sequence[Membership] = ()) -> User:
        """A new active account; password None means OIDC-only. AccountError on duplicates."""

    def get(self, user_id: int) -> User | None:
        """The account with this id, None when unknown."""

    def by_email(self, email: str) -> User | None:
        """The account with this e-mail (case-insensitive), None when unknown."""

    def verify_password(self, email: str, password: str) -> User:
        """The account when the password matches; LoginRefused otherwise."""

    def enable_totp(self, user_id: int) -> str:
        """Generate and store a TOTP secret; returns it (base32) for the authenticator app."""

    def verify_totp(self, user_id: int, code: str) -> bool:
        """True when `code` is the current (or adjacent) TOTP code and was not used before."""

    def link_oidc(self, user_id: int, issuer: str, subject: str) -> None:
        """Remember that this OIDC (issuer, subject) logs in as this account."""

    def by_oidc(self, issuer: str, subject: str) -> User | None:
        """The account linked to this OIDC subject, None when not linked."""

    def members_of(self, organisation: str) -> list[User]:
        """Active accounts with a membership of `organisation`."""

    def all(self) -> list[User]:
        """Every account, by e-mail."""


class AuditLog(Protocol):
    """Append-only trail of what people did through a web application."""

    def record(self, user: User | None, action: str, detail: str, *,
               organisation: str | None = None, address: str | None = None,
               email: str | None = None) -> None:
        """Append one entry (email names the person when there is no User, e.g. a failed login)."""

    def entries(self, *, organisation: str | None = None, limit: int = 200) -> list[AuditEntry]:
        """The newest entries first, optionally of one organisation."""


class Mailer(Protocol):
    """Sends plain-text e-mail (SMTP in production and tests)."""

    def send(self, to: Sequence[str], subject: str, body: str) -> None:
        """Send one message to these addresses; raises OSError/smtplib errors on failure."""
