"""The station's contract with the code around it: the handler of one message kind, and the
events a metrics or monitoring layer can follow (`Station(..., events=...)`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ggk.client.interfaces import Message
from ggk.station.outcomes import Outcome


class Decide(Protocol):
    def __call__(self, message: Message) -> Outcome:
        """Decide about one message and record the outcome with its replies (in one transaction
        with its effects); raises only when it could not decide (then it is tried again)."""


class StationEvents(Protocol):
    """What happens in the station, as it happens (for metrics). Must be quick and never raise."""

    def message_handled(self, message_type: str, outcome: str, seconds: float) -> None:
        """A message was decided, answered and acknowledged (pings: outcome `pong`)."""

    def message_failed(self, message_type: str, attempts: int, dead: bool) -> None:
        """Handling a message failed; `dead` when it is now a dead letter."""

    def mirror_sent(self, statistic: str, seconds: float) -> None:
        """A spiegelrapport was sent (`seconds` from claim to sent)."""

    def mailbox_read(self, messages: Sequence[Message]) -> None:
        """A page of the CBS mailbox was read (empty when nothing waits)."""

    def mailbox_failed(self, error: BaseException) -> None:
        """Reading the mailbox (or answering on it) failed: the hub is away or refuses."""


class NoEvents:
    """The default: nobody listens."""

    def message_handled(self, message_type: str, outcome: str, seconds: float) -> None:
        pass

    def message_failed(self, message_type: str, attempts: int, dead: bool) -> None:
        pass

    def mirror_sent(self, statistic: str, seconds: float) -> None:
        pass

    def mailbox_read(self, messages: Sequence[Message]) -> None:
        pass

    def mailbox_failed(self, error: BaseException) -> None:
        pass
