"""The routing table, as data, in one place: which role may send which message type to which role.

A rule is (sender role, receiver role, type pattern); `*` matches any type. Everything not listed
is refused with 403 `route-not-allowed`.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

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


def route_allowed(sender_role: str, receiver_role: str, message_type: str) -> bool:
    """True if the routing table lets `sender_role` send `message_type` to `receiver_role`."""
    return any(
        sender_role == s and receiver_role == r and fnmatchcase(message_type, pattern)
        for s, r, pattern in ROUTES
    )
