"""The ping responder loop: long-poll the inbox, answer every `ggk.ping` (a burentest peer).

Stations and gemeente clients call `HubClient.answer_pings` from their own mailbox loops; this loop
is for a party where nothing else reads the mailbox (`ggk answer-pings`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ggk.client.hub_client import HubClient
from ggk.client.interfaces import PING_TYPE, PONG_TYPE, PingAnswers


def respond_to_pings(
    client: HubClient,
    *,
    seconds: float | None = None,
    once: bool = False,
    stop: threading.Event | None = None,
    on_answers: Callable[[PingAnswers], None] | None = None,
    poll_wait: int = 5,
) -> int:
    """Answer pings until `seconds` passed, `stop` is set, or (with `once`) the inbox is drained.
    Only ping and pong messages are touched; returns the number of pongs sent."""
    stop_at = None if seconds is None else time.monotonic() + seconds
    cursor: int | None = None
    pongs = 0
    while not (stop is not None and stop.is_set()):
        left = poll_wait if stop_at is None else stop_at - time.monotonic()
        if left <= 0:
            break
        wait = 0 if once else min(poll_wait, max(1, int(left)))
        page = client.mailbox(after=cursor, wait=wait)
        cursor = page.cursor if page.cursor is not None else cursor
        answers = client.answer_pings(
            [m for m in page.messages if m.type in (PING_TYPE, PONG_TYPE)]
        )
        pongs += len(answers.pongs)
        if on_answers is not None and (answers.pongs or answers.acknowledged):
            on_answers(answers)
        if once and not page.messages:
            break
    return pongs
