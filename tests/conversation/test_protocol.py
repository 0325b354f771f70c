"""The conversation protocol: types, metadata and conversation ids read back what was written."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ggk
from ggk.conversation import (
    FROM_CBS,
    TO_CBS,
    AanleveringMetadata,
    BesluitMetadata,
    ConversationId,
    Kind,
    MessageType,
    MissingMetadata,
    RapportMetadata,
    WeigeringMetadata,
    kind_of,
    message_type,
)


def test_message_types_round_trip_and_other_types_are_not_conversation_messages() -> None:
    for kind in (*TO_CBS, *FROM_CBS):
        text = message_type("gmsd", kind)
        assert MessageType.parse(text) == MessageType("gmsd", kind)
        assert kind_of(text) is kind
    assert kind_of("ggk.ping") is None and kind_of("gmsd.iets-anders") is None
    assert kind_of("aanlevering") is None  # no family
    assert str(MessageType("jeugd", Kind.AANLEVERING).reply(Kind.WEIGERING)) == "jeugd.weigering"
    assert MessageType.family_of("gmsd.iets-anders") == "gmsd"


def test_metadata_round_trips_and_names_what_is_missing() -> None:
    sent = AanleveringMetadata("gmsd", "2026-H1", "basis", "GM0363", "basis.csv")
    assert AanleveringMetadata.from_metadata({**sent.as_metadata(), "later": 1}) == sent
    assert sent.conversation == "gmsd/2026-H1/GM0363/basis"
    with pytest.raises(MissingMetadata) as missing:
        AanleveringMetadata.from_metadata({"statistic": "gmsd", "dataset": "", "gemeente": "x"})
    assert missing.value.missing == ["period", "dataset"]
    assert BesluitMetadata("gmsd", "2026-H1", "opt-in").as_metadata() == {
        "statistic": "gmsd", "period": "2026-H1", "besluit": "opt-in"}  # no None values
    rapport = RapportMetadata("gmsd", "2026-H1", "GM0363", "basis", "goedgekeurd", 2, 10, 0, 1,
                              "goedgekeurd")
    assert RapportMetadata.from_metadata(rapport.as_metadata()) == rapport
    assert WeigeringMetadata("bijlage", "tekst", period="2026-H1").as_metadata() == {
        "reden": "bijlage", "bericht": "tekst", "period": "2026-H1"}


def test_conversation_ids_parse() -> None:
    conversation = ConversationId("gmsd", "2026-H1", "GM0363", ConversationId.BESLUIT)
    assert ConversationId.parse(str(conversation)) == conversation
    assert ConversationId.parse("a/b") is None and ConversationId.parse(None) is None


def test_gemeente_and_station_do_not_import_each_other() -> None:
    root = Path(ggk.__file__).parent
    for package, other in (("gemeente", "ggk.station"), ("station", "ggk.gemeente"),
                           ("conversation", "ggk.")):
        for path in (root / package).glob("*.py"):
            if path.name == "pilot.py":  # runs both sides in one process (own package later)
                continue
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module:
                    allowed = package == "conversation" and node.module.startswith(
                        "ggk.conversation")
                    assert allowed or not node.module.startswith(other), (path, node.module)
