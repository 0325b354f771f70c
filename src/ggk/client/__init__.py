"""ggk.client: typed client of the hub API (mutual TLS, tus uploads, Range downloads, receipts).

from ggk.client import HubClient
with HubClient("https://127.0.0.1:8443", cert=Path("gemeente.pem"), ca=Path("ca.pem")) as hub:
    cbs = hub.find_party(role="cbs")
    message = hub.send(cbs.oin, "<statistic>.aanlevering", {"period": "2026-H1"},
                       [Path("data.csv")])
"""

from __future__ import annotations

from ggk.lazy_exports import lazy_exports

_EXPORTS = {
    "Attachment": "ggk.client.interfaces",
    "AttachmentSource": "ggk.client.interfaces",
    "ClientError": "ggk.client.interfaces",
    "Conflict": "ggk.client.interfaces",
    "DownloadResult": "ggk.client.interfaces",
    "Forbidden": "ggk.client.interfaces",
    "HubClient": "ggk.client.hub_client",
    "HubError": "ggk.client.interfaces",
    "HubUnreachable": "ggk.client.interfaces",
    "MailboxPage": "ggk.client.interfaces",
    "Message": "ggk.client.interfaces",
    "NotFound": "ggk.client.interfaces",
    "Party": "ggk.client.interfaces",
    "PartyMonitoring": "ggk.client.interfaces",
    "PingAnswers": "ggk.client.interfaces",
    "Receipt": "ggk.client.interfaces",
    "ReceiptInvalid": "ggk.client.interfaces",
    "RetryPolicy": "ggk.client.tus_upload",
    "TransferFailed": "ggk.client.interfaces",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports("ggk.client", _EXPORTS)
