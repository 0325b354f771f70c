"""The authorisation matrix: every role against every endpoint, and refused certificates."""

from __future__ import annotations

import ssl
from urllib.parse import quote

import httpx
import pytest

from tests.hub.conftest import RunningHub
from tests.hub.helpers import TUS, attachment, message_body, send

PARTIES = ("gemeente_a", "gemeente_b", "cbs", "operator")


def expected_matrix(message_id: str, upload_url: str, download_url: str
                    ) -> dict[tuple[str, str], dict[str, int]]:
    """(method, path) -> status per party, for a message gemeente_a sent to cbs."""
    everyone = dict.fromkeys(PARTIES, 200)
    monitoring = {"gemeente_a": 403, "gemeente_b": 403, "cbs": 200, "operator": 200}
    parties_of_message = {"gemeente_a": 200, "cbs": 200, "gemeente_b": 404, "operator": 404}
    return {
        ("GET", "/healthz"): everyone,
        ("GET", "/metrics"): monitoring,
        ("GET", "/api/v1/me"): everyone,
        ("GET", "/api/v1/hub-key"): everyone,
        ("GET", "/api/v1/hub-keys"): everyone,
        ("GET", "/api/v1/parties"): everyone,
        ("GET", "/api/v1/messages"): everyone,
        ("GET", "/api/v1/monitoring/parties"): monitoring,
        ("GET", f"/api/v1/messages/{message_id}"): parties_of_message,
        ("GET", download_url): parties_of_message,
        ("HEAD", download_url): parties_of_message,
        ("GET", f"/api/v1/messages/{message_id}/receipt"): parties_of_message,
        # the sender sees the message but only the receiver acknowledges
        ("POST", f"/api/v1/messages/{message_id}/ack"): {
            "gemeente_a": 403, "cbs": 200, "gemeente_b": 404, "operator": 404},
        # uploads belong to the sender only; finished uploads are not writable again
        ("HEAD", upload_url): {"gemeente_a": 200, "cbs": 404, "gemeente_b": 404, "operator": 404},
        ("PATCH", upload_url): {"gemeente_a": 409, "cbs": 404, "gemeente_b": 404, "operator": 404},
        ("DELETE", upload_url): {"gemeente_a": 409, "cbs": 404, "gemeente_b": 404,
                                 "operator": 404},
    }


def test_every_role_against_every_endpoint(running_hub: RunningHub) -> None:
    sender = running_hub.client("gemeente_a")
    message = send(sender, running_hub.oin["cbs"], {"basis.csv": b"a;b\n1;2\n"})
    upload_url = message["attachments"][0]["upload_url"]
    download_url = message["attachments"][0]["download_url"]
    clients = {name: running_hub.client(name) for name in PARTIES}
    matrix = expected_matrix(message["id"], upload_url, download_url)
    found: dict[tuple[str, str], dict[str, int]] = {}
    for (method, path), _expected in matrix.items():
        found[(method, path)] = {}
        for name in PARTIES:
            headers = {**TUS, "Upload-Offset": "0",
                       "Content-Type": "application/offset+octet-stream"}
            response = clients[name].request(method, path, headers=headers,
                                             content=b"x" if method == "PATCH" else None)
            found[(method, path)][name] = response.status_code
            if response.status_code >= 400 and method != "HEAD":
                assert response.headers["content-type"] == "application/problem+json"
    assert found == matrix
    # nobody else's mailbox shows the message, in either box
    for name in ("gemeente_b", "operator"):
        for box in ("inbox", "outbox"):
            listed = clients[name].get("/api/v1/messages", params={"box": box}).json()
            assert message["id"] not in [m["id"] for m in listed["messages"]]


@pytest.mark.parametrize(("sender", "receiver", "type", "status"), [
    ("gemeente_a", "cbs", "gmsd.aanlevering", 201),
    ("gemeente_a", "gemeente_b", "gmsd.aanlevering", 403),
    ("cbs", "gemeente_b", "gmsd.spiegelrapport", 201),
    ("cbs", "cbs", "gmsd.spiegelrapport", 403),
    ("operator", "cbs", "gmsd.aanlevering", 403),
    ("operator", "gemeente_a", "ggk.ping", 201),
    ("gemeente_a", "gemeente_b", "ggk.ping", 201),
    ("gemeente_a", "revoked", "ggk.ping", 422),
    ("gemeente_a", "stranger", "gmsd.aanlevering", 422),
])
def test_routing_table(shared_hub: RunningHub, sender: str, receiver: str, type: str,
                       status: int) -> None:
    body = message_body(shared_hub.oin[receiver], type=type)
    response = shared_hub.client(sender).post("/api/v1/messages", json=body)
    assert response.status_code == status, response.text


def test_attacks_of_issue_10_for_every_party(running_hub: RunningHub) -> None:
    """Per party: taking another party's message id gets an id of its own (never a 409 that says
    the id exists, never the other message); a ping carries no file; a certificate header sent
    to a hub that is not behind a proxy changes nobody's identity."""
    message = send(running_hub.client("gemeente_a"), running_hub.oin["cbs"], {"a.csv": b"1\n"})
    gemeente_a_cert = running_hub.pem["gemeente_a"].read_text()
    for name in ("gemeente_b", "cbs", "operator"):
        client = running_hub.client(name)
        receiver = running_hub.oin["gemeente_a"]
        claim = {**message_body(receiver, type="ggk.ping"), "id": message["id"]}
        taken = client.post("/api/v1/messages", json=claim)
        assert taken.status_code == 201 and taken.json()["id"] != message["id"], name
        assert client.get(f"/api/v1/messages/{message['id']}").status_code == (
            200 if name == "cbs" else 404)
        ping = message_body(receiver, type="ggk.ping",
                            attachments=[attachment("bestand.csv", b"geheim\n")])
        assert client.post("/api/v1/messages", json=ping).status_code == 422, name
        forged = client.get("/api/v1/me", headers={"X-SSL-Client-Cert": quote(gemeente_a_cert)})
        assert forged.json()["oin"] == running_hub.oin[name]


def test_explicit_sender_must_be_the_certificate(running_hub: RunningHub) -> None:
    body = message_body(running_hub.oin["cbs"], sender=running_hub.oin["gemeente_b"])
    response = running_hub.client("gemeente_a").post("/api/v1/messages", json=body)
    assert response.status_code == 403 and response.json()["code"] == "sender-mismatch"
    body["sender"] = running_hub.oin["gemeente_a"]
    assert running_hub.client("gemeente_a").post("/api/v1/messages", json=body).status_code == 201


@pytest.mark.parametrize(("party", "code"), [
    ("stranger", "unknown-party"),
    ("revoked", "party-revoked"),
    ("impostor", "certificate-mismatch"),
])
def test_refused_certificates_get_403(shared_hub: RunningHub, party: str, code: str) -> None:
    client = shared_hub.client(party)
    for method, path in [("GET", "/api/v1/me"), ("GET", "/api/v1/messages"),
                         ("POST", "/api/v1/messages"), ("GET", "/api/v1/parties")]:
        response = client.request(method, path, json=message_body(shared_hub.oin["cbs"])
                                  if method == "POST" else None)
        assert response.status_code == 403
        assert response.json()["code"] == code


def test_an_expired_certificate_gets_no_connection(running_hub: RunningHub) -> None:
    """TLS checks the validity period: not even /healthz or the OpenAPI page (issue 10, 5)."""
    client = running_hub.client("expired")
    for path in ("/healthz", "/api/v1/openapi.json", "/api/v1/me"):
        with pytest.raises(httpx.TransportError):
            client.get(path)


def test_revoking_takes_effect_at_once(running_hub: RunningHub) -> None:
    from ggk.hub.database import create_engine
    from ggk.hub.parties import PartyRegistry

    client = running_hub.client("gemeente_b")
    assert client.get("/api/v1/me").status_code == 200
    engine = create_engine(running_hub.settings.resolved_database_url())
    PartyRegistry(engine).revoke(running_hub.oin["gemeente_b"])
    engine.dispose()
    assert client.get("/api/v1/me").json()["code"] == "party-revoked"


def _tls_context(hub: RunningHub, party: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(hub.ca))
    if party:
        context.load_cert_chain(str(hub.pem[party]))
    return context


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_11_and_missing_client_certificate_are_refused(running_hub: RunningHub) -> None:
    old = _tls_context(running_hub, "cbs")
    old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    with pytest.raises(httpx.TransportError), httpx.Client(verify=old) as client:
        client.get(running_hub.base_url + "/healthz")
    with pytest.raises(httpx.TransportError), \
            httpx.Client(verify=_tls_context(running_hub, None)) as client:
        client.get(running_hub.base_url + "/healthz")
    tls12 = _tls_context(running_hub, "cbs")
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    with httpx.Client(verify=tls12) as client:
        assert client.get(running_hub.base_url + "/healthz").status_code == 200


def test_proxy_header_only_from_trusted_proxies(start_hub, hub_pki) -> None:  # type: ignore[no-untyped-def]
    """Behind nginx: the client certificate comes URL-encoded in a header from the proxy, whose
    own certificate (here `stranger`'s, a CA-issued certificate of no party) is pinned."""
    from ggk.pki import fingerprint

    trusted = start_hub(trust_proxy_header="X-SSL-Client-Cert", trusted_proxies=("127.0.0.1",),
                        trusted_proxy_fingerprints=(fingerprint(hub_pki.pem["stranger"]),))
    gemeente_pem = trusted.pem["gemeente_a"].read_text()
    gemeente_cert = gemeente_pem[:gemeente_pem.index("-----END CERTIFICATE-----") + 25] + "\n"
    header = {"X-SSL-Client-Cert": quote(gemeente_cert)}
    # the proxy's own connection certificate belongs to no party
    proxy = trusted.client("stranger")
    me = proxy.get("/api/v1/me", headers=header)
    assert me.status_code == 200 and me.json()["oin"] == trusted.oin["gemeente_a"]
    assert proxy.get("/api/v1/me").json()["code"] == "unknown-party"  # no header: own cert

    # the attack of issue 10 (2): any local process with any CA-issued certificate, from the
    # proxy's own address, claims to be gemeente_a; only the pinned certificate is the proxy
    for impostor in ("gemeente_b", "cbs"):
        refused = trusted.client(impostor).get("/api/v1/me", headers=header)
        assert refused.status_code == 403 and refused.json()["code"] == "untrusted-proxy"
        sent = trusted.client(impostor).post("/api/v1/messages", headers=header,
                                             json=message_body(trusted.oin["cbs"]))
        assert sent.status_code == 403

    untrusted = start_hub(trust_proxy_header="X-SSL-Client-Cert", trusted_proxies=("10.9.8.7",),
                          trusted_proxy_fingerprints=(fingerprint(hub_pki.pem["stranger"]),))
    refused = untrusted.client("stranger").get("/api/v1/me", headers=header)
    assert refused.status_code == 403 and refused.json()["code"] == "untrusted-proxy"

    # a certificate from another CA is refused even from a trusted proxy
    from ggk.pki import init_ca, issue_party_cert

    other_ca = trusted.settings.resolved_store_dir().parent / "other-ca"
    init_ca(other_ca)
    forged = issue_party_cert(other_ca, trusted.oin["gemeente_a"], "Gemeente Amsterdam").decode()
    forged_cert = forged[:forged.index("-----END CERTIFICATE-----") + 25] + "\n"
    response = proxy.get("/api/v1/me", headers={"X-SSL-Client-Cert": quote(forged_cert)})
    assert response.status_code == 403 and response.json()["code"] == "untrusted-certificate"


def test_unmigrated_database_is_refused(database_url: str, tmp_path, hub_pki) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys
    from pathlib import Path

    ggk = str(Path(sys.executable).parent / "ggk")
    done = subprocess.run(
        [ggk, "hub", "serve", "--ca", str(hub_pki.ca), "--cert", str(hub_pki.server_pem),
         "--database-url", database_url, "--store-dir", str(tmp_path / "store"), "--port", "0"],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "ggk hub migrate" in done.stderr and "no hub schema" in done.stderr


def test_attachment_name_with_special_characters(running_hub: RunningHub) -> None:
    gemeente = running_hub.client("gemeente_a")
    name = "rapport 2026 #1?.csv"
    message = send(gemeente, running_hub.oin["cbs"], {name: b"x"})
    assert message["attachments"][0]["download_url"].endswith(quote(name, safe=""))
    response = running_hub.client("cbs").get(message["attachments"][0]["download_url"])
    assert response.status_code == 200 and response.content == b"x"
    bad = message_body(running_hub.oin["cbs"], attachments=[attachment("../x", b"x")])
    assert gemeente.post("/api/v1/messages", json=bad).status_code == 422
