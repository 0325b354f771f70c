"""Sending to CBS: local validation first, then the aanlevering or besluit through the hub.

The CLI (`ggk gemeente submit|besluit`), the ketentest and the pilot all send through these two
functions, so the message shape (type, metadata, conversation id) is defined in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ggk.client.interfaces import AttachmentSource, HubApi, Message
from ggk.conversation import (
    BESLUITEN,
    AanleveringMetadata,
    BesluitMetadata,
    ConversationId,
    Kind,
    conversation_id,
    message_type,
)

if TYPE_CHECKING:  # the validator (Polars) is imported when a file is checked, not before
    from ggk.definitions import Definition
    from ggk.validation.interfaces import ValidationResult

Progress = Callable[[str, int, int], None]


class GemeenteError(Exception):
    """A problem the user can fix (Dutch message); the CLI exits with code 2."""


def own_gemeentecode(client: HubApi) -> str:
    """The gemeentecode the hub registered for our certificate (refuses non-gemeente parties)."""
    me = client.me()
    if me.role != "gemeente" or not me.gemeentecode:
        raise GemeenteError(
            f"dit certificaat hoort bij {me.name} (rol {me.role}), niet bij een gemeente")
    return me.gemeentecode


def check_locally(path: Path, *, period: str, dataset: str, gemeente: str,
                  definition: Definition, referenced: Path | None = None) -> ValidationResult:
    """Validate `path` as CBS will (`ggk.validation`) against `definition`.

    Raises GemeenteError when validation cannot start (missing file, unknown period/dataset)."""
    from ggk.validation import ValidationInputError, validate_file  # Polars: only when checking

    try:
        return validate_file(path, dataset=dataset, gemeente=gemeente, period=period,
                             definition=definition, referenced=referenced)
    except ValidationInputError as e:
        raise GemeenteError(str(e)) from e


def submit_file(client: HubApi, path: Path, *, statistic: str, period: str, dataset: str,
                gemeente: str, cbs_oin: str | None = None,
                progress: Progress | None = None, message_id: str | None = None,
                test: bool = False, sha256: str | None = None, hold_back: int = 0) -> Message:
    """Send one delivery file as an aanlevering to CBS; returns the hub's message. `test`
    marks test traffic (the ketentest): answered, but never counted (ggk.conversation).
    `sha256` spares a pass over a file whose hash is known; `hold_back` uploads all but the
    last bytes (the message is not delivered until the same call without it, see HubApi.send)."""
    if not path.is_file():
        raise GemeenteError(f"bestand niet gevonden: {path}")
    receiver = cbs_oin or client.find_party(role="cbs").oin
    metadata = AanleveringMetadata(statistic, period, dataset, gemeente, path.name,
                                   test=test or None)
    return client.send(receiver, message_type(statistic, Kind.AANLEVERING),
                       metadata.as_metadata(), [AttachmentSource(path, sha256=sha256)],
                       id=message_id, conversation_id=metadata.conversation, progress=progress,
                       hold_back=hold_back)


def send_besluit(client: HubApi, *, statistic: str, period: str, besluit: str, gemeente: str,
                 toelichting: str | None = None, cbs_oin: str | None = None,
                 test: bool = False) -> Message:
    """Send a besluit (`opt-in` or `intrekken`) for a period to CBS; with `test` it is about
    the test deliveries only and never the municipality's besluit."""
    if besluit not in BESLUITEN:
        raise GemeenteError(f"onbekend besluit {besluit!r}: kies opt-in of intrekken")
    receiver = cbs_oin or client.find_party(role="cbs").oin
    metadata = BesluitMetadata(statistic, period, besluit, toelichting or None,
                               test=test or None)
    return client.send(receiver, message_type(statistic, Kind.BESLUIT), metadata.as_metadata(),
                       [], conversation_id=conversation_id(statistic, period, gemeente,
                                                           ConversationId.BESLUIT))
