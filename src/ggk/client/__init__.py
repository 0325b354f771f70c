"""ggk.client: typed client of the hub API (mutual TLS, tus uploads, Range downloads, receipts).

from ggk.client import HubClient
with HubClient("https://127.0.0.1:8443", cert=Path("gemeente.pem"), ca=Path("ca.pem")) as hub:
    cbs = hub.find_party(role="cbs")
    message = hub.send(cbs.oin, "gmsd.aanlevering", {"period": "2026-H1"}, [Path("basis.csv")])
"""

from ggk.client.hub_client import HubClient
from ggk.client.interfaces import (
    Attachment,
    AttachmentSource,
    ClientError,
    Conflict,
    DownloadResult,
    Forbidden,
    HubError,
    HubUnreachable,
    MailboxPage,
    Message,
    NotFound,
    Party,
    PartyMonitoring,
    PingAnswers,
    Receipt,
    ReceiptInvalid,
    TransferFailed,
)
from ggk.client.tus_upload import RetryPolicy

__all__ = [
    "Attachment",
    "AttachmentSource",
    "ClientError",
    "Conflict",
    "DownloadResult",
    "Forbidden",
    "HubClient",
    "HubError",
    "HubUnreachable",
    "MailboxPage",
    "Message",
    "NotFound",
    "Party",
    "PartyMonitoring",
    "PingAnswers",
    "Receipt",
    "ReceiptInvalid",
    "RetryPolicy",
    "TransferFailed",
]
