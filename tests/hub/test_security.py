"""Regression tests of issue 10 (hub side), each an attack on a real hub (uvicorn, TLS,
SQLite and PostgreSQL through `database_url`). The authorisation matrix and the proxy attack are in
test_authorisation.py; the gemeente side of finding 1 in tests/gemeente/test_inbox_isolation.py."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
import sqlalchemy as sa

from ggk.hub.database import create_engine
from ggk.hub.parties import PartyRegistry
from ggk.pki import issue_party_cert, make_test_oin
from tests.hub.conftest import HubPki, RunningHub, StartHub
from tests.hub.helpers import TUS, attachment, message_body, send

GGK = str(Path(sys.executable).parent / "ggk")
BSN = "999043195"  # a test BSN (passes the elfproef)


def _engine(hub: RunningHub) -> sa.Engine:
    return create_engine(hub.settings.resolved_database_url())


def _tls_socket(hub: RunningHub, party: str) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(hub.ca))
    context.load_cert_chain(str(hub.pem[party]))
    address = urlsplit(hub.base_url)
    raw = socket.create_connection((address.hostname, address.port), timeout=30)
    return context.wrap_socket(raw, server_hostname=address.hostname)


def _status_of(sock: ssl.SSLSocket) -> int:
    head = b""
    while b"\r\n" not in head:
        piece = sock.recv(4096)
        if not piece:
            break
        head += piece
    return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0


# ---- 1 and 10: message ids ---------------------------------------------------------------------
def test_another_partys_id_is_free_and_not_revealed(running_hub: RunningHub) -> None:
    a, b = running_hub.client("gemeente_a"), running_hub.client("gemeente_b")
    original = message_body(running_hub.oin["cbs"])
    assert a.post("/api/v1/messages", json=original).status_code == 201
    # gemeente_b uses the same id: no 409 (which would say the id exists), an id of its own
    taken = b.post("/api/v1/messages", json={**original, "metadata": {"x": 1}})
    assert taken.status_code == 201, taken.text
    scoped = taken.json()["id"]
    assert scoped != original["id"] and taken.json()["sender"] == running_hub.oin["gemeente_b"]
    # idempotent: the retry finds the same message; another content under the same id is 409
    again = b.post("/api/v1/messages", json={**original, "metadata": {"x": 1}})
    assert (again.status_code, again.json()["id"]) == (200, scoped)
    other = b.post("/api/v1/messages", json={**original, "metadata": {"x": 2}})
    assert other.status_code == 409
    # the original stays gemeente_a's, invisible to gemeente_b: 404 as for a missing id
    for path in (f"/api/v1/messages/{original['id']}", f"/api/v1/messages/{original['id']}"
                 "/receipt"):
        assert b.get(path).status_code == 404
    assert a.get(f"/api/v1/messages/{original['id']}").json()["metadata"] == original["metadata"]


# ---- 2: behind a proxy on the same machine: a unix socket ---------------------------------------
def test_behind_a_proxy_on_a_unix_socket(running_hub: RunningHub, hub_pki: HubPki,
                                         tmp_path: Path) -> None:
    from urllib.parse import quote

    path = tmp_path / "hub.sock"
    process = subprocess.Popen(
        [GGK, "hub", "serve", "--ca", str(hub_pki.ca), "--unix-socket", str(path),
         "--trust-proxy-header", "X-SSL-Client-Cert",
         "--database-url", running_hub.settings.resolved_database_url(),
         "--store-dir", str(running_hub.settings.resolved_store_dir()),
         "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        pem = running_hub.pem["gemeente_a"].read_text()
        header = {"X-SSL-Client-Cert": quote(pem[:pem.index("-----END CERTIFICATE-----") + 25])}
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(path)), base_url="http://hub",
                          timeout=10) as proxy:
            deadline = time.monotonic() + 60
            while True:
                try:
                    me = proxy.get("/api/v1/me", headers=header)
                    break
                except httpx.TransportError:
                    assert process.poll() is None and time.monotonic() < deadline, \
                        process.stderr.read().decode()  # type: ignore[union-attr]
                    time.sleep(0.1)
            assert me.status_code == 200 and me.json()["oin"] == running_hub.oin["gemeente_a"]
            assert stat.S_IMODE(path.stat().st_mode) == 0o600  # only the hub's own user
            without = proxy.get("/api/v1/me")
            assert without.status_code == 403
            assert without.json()["code"] == "no-client-certificate"
    finally:
        process.terminate()
        process.wait(timeout=20)


# ---- 3: role escalation ------------------------------------------------------------------------
def test_replace_keeps_the_registered_role(running_hub: RunningHub, hub_pki: HubPki,
                                           tmp_path: Path) -> None:
    url = running_hub.settings.resolved_database_url()
    oin = running_hub.oin["gemeente_b"]
    # a renewed certificate of gemeente_b whose hints say "cbs"
    promoted = tmp_path / "promoted.pem"
    promoted.write_bytes(issue_party_cert(hub_pki.directory / "ca", oin, "Gemeente Rotterdam",
                                          role="cbs"))
    base = [GGK, "party", "add", "--cert", str(promoted), "--database-url", url]
    done = subprocess.run([*base, "--replace"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "(gemeente GM0599)" in done.stdout
    party = running_hub.client("gemeente_b")  # the old certificate is replaced
    assert party.get("/api/v1/me").json()["code"] == "certificate-mismatch"
    asked = subprocess.run([*base, "--replace", "--role", "cbs"], capture_output=True, text=True,
                           timeout=60)
    assert asked.returncode == 2 and "--change-role" in asked.stderr
    changed = subprocess.run([*base, "--replace", "--change-role"], capture_output=True,
                             text=True, timeout=60)
    assert changed.returncode == 0 and "(cbs)" in changed.stdout
    audit = subprocess.run([GGK, "hub", "audit", "--database-url", url], capture_output=True,
                           text=True, timeout=60).stdout
    assert "party-role-changed" in audit and '"previous_role": "gemeente"' in audit


# ---- 4: unauthenticated cost -------------------------------------------------------------------
def _peak_rss_while(work: threading.Thread) -> int:
    process = psutil.Process(os.getpid())
    peak = process.memory_info().rss
    work.start()
    while work.is_alive():
        peak = max(peak, process.memory_info().rss)
        work.join(0.02)
    return peak


def test_large_body_from_an_unregistered_certificate_costs_no_memory(
        running_hub: RunningHub) -> None:
    size = 400 * 1024 * 1024
    piece = b"[" + b"1," * (512 * 1024 - 1) + b"1"  # ~1 MiB of JSON-ish bytes, reused
    outcome: dict[str, object] = {}

    def attack() -> None:
        sock = _tls_socket(running_hub, "stranger")
        sock.sendall((f"POST /api/v1/messages HTTP/1.1\r\nHost: hub\r\nContent-Type: "
                      f"application/json\r\nContent-Length: {size}\r\n\r\n").encode())
        sent = 0
        try:
            while sent < size:
                sock.sendall(piece[:min(len(piece), size - sent)])
                sent += min(len(piece), size - sent)
        except OSError:
            pass  # the hub answered and closed: what we want
        outcome["sent"] = sent
        try:
            outcome["status"] = _status_of(sock)
        except OSError:
            outcome["status"] = 0
        sock.close()

    before = psutil.Process(os.getpid()).memory_info().rss
    peak = _peak_rss_while(threading.Thread(target=attack))
    # unfixed, the hub read and parsed the whole body (> 1 GB here); bound it well below that
    assert peak - before < 150 * 1024 * 1024, f"RSS grew {(peak - before) / 2**20:.0f} MiB"
    assert outcome["status"] in (403, 0)
    # and a registered party's JSON is capped too
    big = message_body(running_hub.oin["cbs"])
    big["metadata"] = {"x": "y" * (2 * 1024 * 1024)}
    refused = running_hub.client("gemeente_a").post("/api/v1/messages", json=big)
    assert refused.status_code == 413 and refused.json()["code"] == "body-too-large"


@pytest.mark.parametrize(("header_lines", "what"), [
    ([f"X-Filler-{i}: {i}" for i in range(1000)], "count"),
    (["X-Big: " + "a" * (1024 * 1024)], "size"),
])
def test_oversized_request_heads_get_431(running_hub: RunningHub, header_lines: list[str],
                                         what: str) -> None:
    sock = _tls_socket(running_hub, "gemeente_a")
    try:
        head = "GET /api/v1/me HTTP/1.1\r\nHost: hub\r\n" + "".join(
            line + "\r\n" for line in header_lines) + "\r\n"
        try:
            sock.sendall(head.encode())
        except OSError:
            pass  # closed while we were still sending: the answer is already there
        assert _status_of(sock) == 431, what
    finally:
        sock.close()


def test_a_head_that_never_finishes_is_closed(start_hub: StartHub) -> None:
    hub = start_hub(header_timeout_seconds=1.0)
    sock = _tls_socket(hub, "gemeente_a")
    sock.settimeout(1)
    closed = False
    try:
        sock.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: hub\r\n")
        deadline = time.monotonic() + 20  # a bound, not a measurement
        while time.monotonic() < deadline and not closed:
            try:
                sock.sendall(b"X-Slow: 1\r\n")  # one header a second keeps it "busy"
                data = sock.recv(4096)
                closed = data == b"" or data.startswith(b"HTTP/1.1 408")
            except TimeoutError:
                continue
            except OSError:
                closed = True
    finally:
        sock.close()
    assert closed


# ---- 5: certificates ---------------------------------------------------------------------------
def _new_party(hub_pki: HubPki, tmp_path: Path, number: int, name: str, **kwargs: object
               ) -> tuple[str, Path]:
    oin = make_test_oin(number)
    pem = tmp_path / f"{name}.pem"
    pem.write_bytes(issue_party_cert(hub_pki.directory / "ca", oin, f"Gemeente {name}",
                                     role="gemeente", gemeentecode=f"GM{number:04d}",
                                     **kwargs))  # type: ignore[arg-type]
    return oin, pem


def _client(hub: RunningHub, pem: Path) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(hub.ca))
    context.load_cert_chain(str(pem))
    return httpx.Client(base_url=hub.base_url, verify=context, timeout=30)


def test_revoked_certificates_on_the_crl_are_refused(start_hub: StartHub, hub_pki: HubPki,
                                                     tmp_path: Path) -> None:
    ca_dir = tmp_path / "ca"  # a CA of its own, so that the shared test CA keeps no CRL
    subprocess.run([GGK, "pki", "init", "--dir", str(ca_dir)], check=True, capture_output=True)
    pems = {}
    for number, name in ((1701, "Een"), (1702, "Twee")):
        pems[name] = tmp_path / f"{name}.pem"
        pems[name].write_bytes(issue_party_cert(ca_dir, make_test_oin(number), f"Gemeente {name}",
                                                role="gemeente", gemeentecode=f"GM{number}"))
    crl = subprocess.run([GGK, "pki", "revoke", str(pems["Een"]), "--dir", str(ca_dir)],
                         capture_output=True, text=True, timeout=60)
    assert crl.returncode == 0, crl.stderr
    hub = start_hub(ca_file=ca_dir / "ca.pem", crl_source=str(ca_dir / "crl.pem"),
                    crl_refresh_seconds=0.2)
    # the hub's own server certificate is from the shared CA: clients verify with that one
    hub.ca = hub_pki.ca
    registry = PartyRegistry(_engine(hub))
    for pem in pems.values():
        registry.add(pem)
    registry.engine.dispose()
    with _client(hub, pems["Een"]) as een, _client(hub, pems["Twee"]) as twee:
        assert een.get("/api/v1/me").json()["code"] == "certificate-revoked"
        assert twee.get("/api/v1/me").status_code == 200
        # revoked after the start: refused once the hub has read the new CRL
        subprocess.run([GGK, "pki", "revoke", str(pems["Twee"]), "--dir", str(ca_dir)],
                       check=True, capture_output=True, timeout=60)
        deadline = time.monotonic() + 20
        while twee.get("/api/v1/me").status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert twee.get("/api/v1/me").json()["code"] == "certificate-revoked"


def test_the_crl_can_come_from_a_url(start_hub: StartHub, hub_pki: HubPki,
                                     tmp_path: Path) -> None:
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    ca_dir = tmp_path / "ca"
    subprocess.run([GGK, "pki", "init", "--dir", str(ca_dir)], check=True, capture_output=True)
    pem = tmp_path / "drie.pem"
    pem.write_bytes(issue_party_cert(ca_dir, make_test_oin(1703), "Gemeente Drie",
                                     role="gemeente", gemeentecode="GM1703"))
    subprocess.run([GGK, "pki", "revoke", str(pem), "--dir", str(ca_dir)], check=True,
                   capture_output=True, timeout=60)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(ca_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hub = start_hub(ca_file=ca_dir / "ca.pem",
                        crl_source=f"http://127.0.0.1:{server.server_address[1]}/crl.pem")
        hub.ca = hub_pki.ca
        registry = PartyRegistry(_engine(hub))
        registry.add(pem)
        registry.engine.dispose()
        with _client(hub, pem) as drie:
            assert drie.get("/api/v1/me").json()["code"] == "certificate-revoked"
    finally:
        server.shutdown()
        server.server_close()


def test_serve_refuses_an_unreadable_crl_and_an_unpinned_proxy(running_hub: RunningHub,
                                                               hub_pki: HubPki,
                                                               tmp_path: Path) -> None:
    serve = [GGK, "hub", "serve", "--ca", str(hub_pki.ca), "--cert", str(hub_pki.server_pem),
             "--database-url", running_hub.settings.resolved_database_url(),
             "--store-dir", str(tmp_path / "store"), "--port", "0"]
    missing = subprocess.run([*serve, "--crl", str(tmp_path / "none.pem")], capture_output=True,
                             text=True, timeout=60)
    assert missing.returncode == 2 and "CRL" in missing.stderr
    unpinned = subprocess.run([*serve, "--trust-proxy-header", "X-SSL-Client-Cert",
                               "--trusted-proxy", "127.0.0.1"], capture_output=True, text=True,
                              timeout=60)
    assert unpinned.returncode == 2 and "--trusted-proxy-cert" in unpinned.stderr


def test_rotation_overlap_remove_and_expired_at_add(running_hub: RunningHub, hub_pki: HubPki,
                                                    tmp_path: Path) -> None:
    url = running_hub.settings.resolved_database_url()
    oin, old = _new_party(hub_pki, tmp_path, 1801, "Oud")
    new = tmp_path / "new.pem"
    new.write_bytes(issue_party_cert(hub_pki.directory / "ca", oin, "Gemeente Oud",
                                     role="gemeente", gemeentecode="GM1801"))
    add = [GGK, "party", "add", "--database-url", url, "--cert"]
    assert subprocess.run([*add, str(old)], capture_output=True, timeout=60).returncode == 0
    renewed = subprocess.run([*add, str(new), "--replace", "--overlap-days", "1"],
                             capture_output=True, text=True, timeout=60)
    assert renewed.returncode == 0 and "stays valid until" in renewed.stdout
    with _client(running_hub, old) as before, _client(running_hub, new) as after:
        assert before.get("/api/v1/me").json()["oin"] == oin  # both, during the renewal
        assert after.get("/api/v1/me").json()["oin"] == oin
        # a replacement without overlap ends the old certificate at once
        assert subprocess.run([*add, str(new), "--replace"], capture_output=True,
                              timeout=60).returncode == 0
        assert before.get("/api/v1/me").json()["code"] == "certificate-mismatch"
        removed = subprocess.run([GGK, "party", "remove", oin, "--database-url", url],
                                 capture_output=True, text=True, timeout=60)
        assert removed.returncode == 0, removed.stderr
        assert after.get("/api/v1/me").json()["code"] == "unknown-party"
    _expired_oin, expired = _new_party(hub_pki, tmp_path, 1802, "Verlopen", days=1,
                                       not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    refused = subprocess.run([*add, str(expired)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "expired" in refused.stderr
    warned = subprocess.run([*add, str(expired), "--allow-expired"], capture_output=True,
                            text=True, timeout=60)
    assert warned.returncode == 0 and "warning" in warned.stderr


# ---- 6: data at rest ---------------------------------------------------------------------------
def test_files_and_database_are_owner_only(running_hub: RunningHub) -> None:
    send(running_hub.client("gemeente_a"), running_hub.oin["cbs"], {"basis.csv": b"a;b\n1;2\n"})
    store = running_hub.settings.resolved_store_dir()
    files = [p for p in (store / "attachments").rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in [store, *(p for p in (store / "attachments").rglob("*") if p.is_dir())]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    database = sa.make_url(running_hub.settings.resolved_database_url()).database
    if running_hub.settings.resolved_database_url().startswith("sqlite"):
        for path in Path(database).parent.glob(Path(database).name + "*"):  # with -wal, -shm
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_bsn_like_numbers_are_masked_at_the_edge(running_hub: RunningHub) -> None:
    gemeente = running_hub.client("gemeente_a")
    body = message_body(running_hub.oin["cbs"], type="gmsd.besluit",
                        attachments=[attachment(f"clienten_{BSN}.csv", b"x\n")])
    body["metadata"] = {"toelichting": f"zie client {BSN[:3]} {BSN[3:6]} {BSN[6:]} en {BSN}",
                        "oin": running_hub.oin["gemeente_a"], "rows": 123456789}
    body["conversation_id"] = f"gmsd/2026-H1/GM0363/{BSN}"
    created = gemeente.post("/api/v1/messages", json=body)
    assert created.status_code == 201, created.text
    shown = created.json()
    assert BSN not in json.dumps(shown) and "999 043 195" not in json.dumps(shown)
    assert shown["metadata"]["oin"] == running_hub.oin["gemeente_a"]  # OINs stay readable
    assert shown["metadata"]["rows"] == 123456789  # numbers are not text
    upload_url = shown["attachments"][0]["upload_url"]
    assert gemeente.patch(upload_url, content=b"x\n", headers={
        **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    ).status_code == 204
    engine = _engine(running_hub)
    with engine.connect() as conn:
        stored = [str(row) for table in ("hub_message", "hub_attachment", "hub_audit")
                  for row in conn.execute(sa.text(f"SELECT * FROM {table}"))]
    engine.dispose()
    assert stored and not any(BSN in row for row in stored)


def test_message_rows_are_purged_after_their_retention(start_hub: StartHub) -> None:
    hub = start_hub(message_retention_seconds=0, expiry_sweep_seconds=0.2)
    message = send(hub.client("gemeente_a"), hub.oin["cbs"], {"a.csv": b"1\n"})
    cbs = hub.client("cbs")
    assert cbs.post(f"/api/v1/messages/{message['id']}/ack").status_code == 200
    deadline = time.monotonic() + 20
    while cbs.get(f"/api/v1/messages/{message['id']}").status_code == 200 \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    engine = _engine(hub)
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT count(*) FROM hub_message")).scalar_one()
        actions = conn.execute(sa.text("SELECT action FROM hub_audit WHERE message_id = :m"),
                               {"m": message["id"]}).scalars().all()
    engine.dispose()
    assert left == 0 and "purged" in actions
    assert not [p for p in (hub.settings.resolved_store_dir() / "attachments").rglob("*")
                if p.is_file()]


# ---- 7: pings ----------------------------------------------------------------------------------
@pytest.mark.parametrize("change", [
    {"attachments": [attachment("geheim.csv", b"a;b\n")]},
    {"metadata": {"bestand": base64.b64encode(b"data" * 100).decode()}},
    {"metadata": {"ping_id": "niet-een-uuid"}},
    {"conversation_id": "vrije tekst"},
])
def test_a_ping_carries_no_data(running_hub: RunningHub, change: dict[str, object]) -> None:
    body = {**message_body(running_hub.oin["gemeente_b"], type="ggk.ping"), **change}
    refused = running_hub.client("gemeente_a").post("/api/v1/messages", json=body)
    assert refused.status_code == 422 and refused.json()["code"] == "bad-ping"


# ---- 8 and 10: every bad input a 4xx -----------------------------------------------------------
def test_bad_input_gets_a_4xx(running_hub: RunningHub) -> None:
    gemeente = running_hub.client("gemeente_a")
    cbs_oin = running_hub.oin["cbs"]
    for raw in ('"\\ud800"', "NaN", "Infinity", "-Infinity", "1e999"):
        body = json.dumps(message_body(cbs_oin)).replace('"2026-H1"', raw)
        response = gemeente.post("/api/v1/messages", content=body,
                                 headers={"Content-Type": "application/json"})
        assert response.status_code == 422, (raw, response.text)
    data = b"a;b\n1;2\n"
    body = message_body(cbs_oin, attachments=[attachment("a.csv", data)])
    url = gemeente.post("/api/v1/messages", json=body).json()["attachments"][0]["upload_url"]
    for offset in ("9" * 5000, "\u0663", "\u00b2", "-1", "1_0", "+1"):
        response = gemeente.patch(url, content=data, headers={
            **TUS, "Upload-Offset": offset.encode(),  # UTF-8 bytes on the wire
            "Content-Type": "application/offset+octet-stream"})
        assert response.status_code == 400, (offset, response.text)
    metadata = "message_id " + base64.b64encode(body["id"].encode()).decode()
    for length in ("9" * 5000, "\u0663"):
        response = gemeente.post("/api/v1/uploads", headers={
            **TUS, "Upload-Length": length.encode(), "Upload-Metadata": metadata})
        assert response.status_code == 400, (length, response.text)
    message = send(gemeente, cbs_oin, {"b.csv": data})
    download = message["attachments"][0]["download_url"]
    response = gemeente.get(download, headers={"Range": "bytes=" + "9" * 5000 + "-"})
    assert response.status_code == 416


def test_head_on_a_download(running_hub: RunningHub) -> None:
    data = b"a;b\n1;2\n"
    message = send(running_hub.client("gemeente_a"), running_hub.oin["cbs"], {"a.csv": data})
    cbs = running_hub.client("cbs")
    head = cbs.head(message["attachments"][0]["download_url"])
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(data))
    assert head.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert cbs.get(f"/api/v1/messages/{message['id']}").json()["state"] == "available"
    assert running_hub.client("gemeente_b").head(
        message["attachments"][0]["download_url"]).status_code == 404


def test_an_unwritable_store_gets_507_and_healthz_says_so(running_hub: RunningHub) -> None:
    attachments_dir = running_hub.settings.resolved_store_dir() / "attachments"
    aside = attachments_dir.with_name("attachments-aside")
    attachments_dir.rename(aside)
    attachments_dir.write_text("not a directory")  # unwritable even for root
    try:
        gemeente = running_hub.client("gemeente_a")
        body = message_body(running_hub.oin["cbs"], attachments=[attachment("a.csv", b"1\n")])
        response = gemeente.post("/api/v1/messages", json=body)
        assert response.status_code == 507 and response.json()["code"] == "store-unwritable"
        assert gemeente.get(f"/api/v1/messages/{body['id']}").status_code == 404  # nothing kept
        health = gemeente.get("/healthz")
        assert health.status_code == 503 and health.json()["code"] == "store-unwritable"
    finally:
        attachments_dir.unlink()
        aside.rename(attachments_dir)
    assert running_hub.client("gemeente_a").get("/healthz").json()["store"] == "ok"


def test_masking_keeps_oins_readable() -> None:
    from ggk.privacy import mask_bsn_like

    oin = make_test_oin(363)
    line = f"party {oin} sent 999-04-3195, {BSN} and 12345672 (uuid {uuid.uuid4()})"
    masked = mask_bsn_like(line)
    assert oin in masked and BSN not in masked and "999-04-3195" not in masked
    assert "12345672" not in masked  # eight digits: a BSN whose leading zero was dropped
    assert mask_bsn_like("2026-01-01 20260101") == "2026-01-01 20260101"

