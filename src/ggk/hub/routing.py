"""The routing table, as data, in one place: which role may send which message type to which role.

A rule is (sender role, receiver role, type pattern); `*` matches any type. Everything not listed
is refused with 403 `route-not-allowed`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any, Protocol

from ggk.hub.interfaces import HubError

ANY_TYPE = "*"
PING_TYPES = ("ggk.ping", "ggk.pong")
ROLES = ("gemeente", "cbs", "operator")

ROUTES: tuple[tuple[str, str, str], ...] = (
    ("gemeente", "cbs", ANY_TYPE),
    ("cbs", "gemeente", ANY_TYPE),
    # burentest: every party may ping every party, and answer
    *((sender, receiver, ping) for sender in ROLES for receiver in ROLES for ping in PING_TYPES),
)

# Who may read monitoring (/metrics, /api/v1/monitoring/parties)
MONITORING_ROLES = frozenset({"operator", "cbs"})


# A ping carries no attachment and only these metadata fields (name -> allowed kind), so that
# ping/pong between any two parties cannot be a channel for files or data.
PING_METADATA: dict[str, str] = {"sent_at": "number", "ping_back": "bool",
                                 "ping_back_of": "uuid", "ping_id": "uuid",
                                 "answers_ping_back": "bool"}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_KINDS: dict[str, Callable[[object], bool]] = {
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "uuid": lambda v: isinstance(v, str) and _UUID.fullmatch(v) is not None,
}


class PingDeclaration(Protocol):
    type: str
    conversation_id: str | None
    metadata: dict[str, Any]
    attachments: tuple[object, ...]


def check_ping(declaration: PingDeclaration) -> None:
    """Refuse (422 `bad-ping`) a ping or pong with attachments, other metadata fields or a
    conversation id that is not a uuid."""
    problems = []
    if declaration.attachments:
        problems.append("it carries attachments")
    for key, value in declaration.metadata.items():
        kind = PING_METADATA.get(key)
        if kind is None:
            problems.append(f"metadata field {key!r} is not allowed")
        elif not _KINDS[kind](value):
            problems.append(f"metadata field {key!r} must be a {kind}")
    if declaration.conversation_id is not None and not _UUID.fullmatch(
            declaration.conversation_id):
        problems.append("its conversation_id must be a uuid")
    if problems:
        raise HubError(422, "bad-ping", f"a {declaration.type} carries no attachments and only "
                       f"the metadata fields {', '.join(PING_METADATA)}: " + "; ".join(problems))


def route_allowed(sender_role: str, receiver_role: str, message_type: str) -> bool:
    """True if the routing table lets `sender_role` send `message_type` to `receiver_role`."""
    return any(
        sender_role == s and receiver_role == r and fnmatchcase(message_type, pattern)
        for s, r, pattern in ROUTES
    )
