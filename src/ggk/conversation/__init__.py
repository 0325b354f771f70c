"""The conversation between a municipality and CBS (message kinds, metadata, conversation ids);
see interfaces.py. Below ggk.gemeente and ggk.station, which both use it and never each other."""

from __future__ import annotations

from ggk.conversation.interfaces import (
    ANSWERS,
    BESLUITEN,
    FROM_CBS,
    NOTICES,
    PING,
    PING_TYPES,
    PONG,
    TO_CBS,
    AanleveringMetadata,
    BesluitMetadata,
    BevestigingMetadata,
    ConversationId,
    HerinneringMetadata,
    Kind,
    MessageType,
    MissingMetadata,
    RapportMetadata,
    SpiegelrapportMetadata,
    UitstelMetadata,
    WeigeringMetadata,
    conversation_id,
    kind_of,
    message_type,
)

__all__ = [
    "ANSWERS", "BESLUITEN", "FROM_CBS", "NOTICES", "PING", "PING_TYPES", "PONG", "TO_CBS",
    "AanleveringMetadata",
    "BesluitMetadata", "BevestigingMetadata", "ConversationId", "HerinneringMetadata", "Kind",
    "MessageType",
    "MissingMetadata", "RapportMetadata", "SpiegelrapportMetadata", "UitstelMetadata",
    "WeigeringMetadata",
    "conversation_id", "kind_of", "message_type",
]
