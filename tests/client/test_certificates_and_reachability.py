"""Burentest certificate checks on real certificates, and a hub that cannot be reached."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import pytest

from ggk.client import HubClient, HubUnreachable
from ggk.client.burentest import BurentestReport, _certificate_check, run_burentest
from ggk.client.tls_check import own_certificate
from ggk.pki import issue_party_cert
from ggk.world import WorldPki
from tests.client.conftest import RunningHub


def _certificate(pki: WorldPki, tmp_path: Path, **kwargs: object) -> Path:
    path = tmp_path / "party.pem"
    path.write_bytes(issue_party_cert(pki.ca_dir, "00000099000000000042", "Test", **kwargs))
    return path


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"days": 365}, "ok", "days left"),
        ({"days": 10}, "warning", "renew it"),
        (
            {"days": 1, "not_before": dt.datetime.now(dt.UTC) - dt.timedelta(days=3)},
            "failed",
            "expired",
        ),
    ],
)
def test_certificate_validity_and_expiry(
    client_pki: WorldPki, tmp_path: Path, kwargs: dict[str, object], status: str, words: str
) -> None:
    report = BurentestReport("peer")
    _certificate_check(
        report, "your certificate", own_certificate(_certificate(client_pki, tmp_path, **kwargs))
    )
    assert report.checks[0].status == status
    assert words in report.checks[0].detail


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_hub_is_a_clear_error(client_pki: WorldPki) -> None:
    url = f"https://127.0.0.1:{_closed_port()}"
    with HubClient(url, client_pki.pem["gemeente"], client_pki.ca) as client:
        with pytest.raises(HubUnreachable, match=f"cannot reach the hub at {url}"):
            client.me()
    report = run_burentest(url, client_pki.pem["gemeente"], client_pki.ca, "x", timeout=1)
    assert report.checks[0].status == "failed"
    assert report.checks[0].detail.startswith(f"no TLS connection to {url}")


def test_a_hub_with_a_certificate_from_another_ca_fails_the_handshake(
    hub: RunningHub, tmp_path: Path
) -> None:
    from ggk.pki import init_ca

    other = init_ca(tmp_path / "other-ca")
    with HubClient(hub.url, hub.gemeente, other.cert_path) as client:
        with pytest.raises(HubUnreachable, match="TLS handshake with the hub"):
            client.me()
