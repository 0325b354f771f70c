"""Benchmark of the municipality portal (issue 12).

1. Page time: the portal acts for `--gemeenten` municipalities (default all 342, each with its own
   party certificate registered at a real hub on loopback TLS); `--users` people (default 50), each
   of another municipality, log in and request the dashboard (`/gemeente/<code>`, which asks the
   hub for the outbox and inbox) and a report page (a saved technical report) for `--seconds`
   seconds, concurrently. p50/p95 per page kind.
2. Upload: one file of `--upload-mb` MB (default 500) sent (a) with the CLI's path as
   `ggk gemeente submit` takes it (`check_locally`, the same check as `ggk validate`, then
   `submit_file`, tus to the hub), (a') the CLI's transfer alone (`submit_file` without the check)
   and (b) through the portal's browser path (tus PATCHes of 8 MiB to the portal as tus-js-client
   sends them; then the portal's local check and, side by side, its upload to the hub of all but
   the last byte; then the user's send), in the same run. Ratio = CLI seconds / browser-path
   seconds (goal >= 0.9), against (a) and, for comparison, (a').
Figures are appended to the `## portal` section of bench/RESULTS.md unless --no-record. Run only
small sizes on a shared machine (e.g. `--gemeenten 40 --users 10 --seconds 10 --upload-mb 20`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import ssl
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
RESULTS = ROOT / "bench" / "RESULTS.md"
PASSWORD = "bench-wachtwoord-1"
PERIOD = "2026-H1"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def setup(tmp: Path, count: int) -> tuple:  # type: ignore[type-arg]
    from ggk.hub.database import create_engine, migrate
    from ggk.hub.parties import PartyRegistry
    from ggk.hub.server import HubServer
    from ggk.hub.settings import HubSettings
    from ggk.pki import init_ca, issue_party_cert, issue_server_cert, make_test_oin
    from ggk.portal.app import Portal, PortalSettings
    from ggk.refdata import register
    from ggk.web.interfaces import Membership
    from ggk.web.server import BackgroundServer

    pki = tmp / "pki"
    init_ca(pki / "ca")
    ca = pki / "ca" / "ca.pem"
    server_pem = pki / "server.pem"
    server_pem.write_bytes(issue_server_cert(pki / "ca", ["127.0.0.1"]))
    cbs = pki / "cbs.pem"
    cbs.write_bytes(issue_party_cert(pki / "ca", make_test_oin(1), "CBS", role="cbs"))
    gemeenten = register().all()[:count]
    pems = {}
    for g in gemeenten:
        number = int(g.code.removeprefix("GM"))
        pems[g.code] = pki / f"{g.code}.pem"
        pems[g.code].write_bytes(issue_party_cert(pki / "ca", make_test_oin(number), g.naam,
                                                  role="gemeente", gemeentecode=g.code))
    settings = HubSettings(ca_file=ca, server_cert=server_pem, data_dir=tmp / "hub", port=0)
    engine = create_engine(settings.resolved_database_url())
    migrate(engine)
    registry = PartyRegistry(engine)
    registry.add(cbs)
    for pem in pems.values():
        registry.add(pem)
    engine.dispose()
    hub = HubServer(settings)
    hub_url = hub.start()
    portal = Portal(PortalSettings(data_dir=tmp / "portal", hub=hub_url, ca=ca))
    portal.migrate()
    for code, pem in pems.items():
        portal.add_gemeente(pem, code)
        portal.web.accounts.create(f"{code.lower()}@bench.ggk", f"Bench {code}", PASSWORD,
                                   memberships=[Membership(code, "medewerker")])
    server = BackgroundServer(portal.create_app(), cert=server_pem)
    url = server.start()
    return hub, hub_url, ca, cbs, pems, portal, server, url


def saved_report(portal: object, code: str, tmp: Path) -> str:
    """A technical report as the portal saves one (from a real validation of a small file)."""
    from ggk.definitions import shipped
    from ggk.testdata.generator import generate
    from ggk.validation import validate_file

    generated = generate(shipped().for_period("gmsd", PERIOD), "basis", code, PERIOD, rows=2000,
                         errors={"elfproef": 5}, out=tmp / "reports" / code)
    result = validate_file(Path(generated.path), dataset="basis", gemeente=code, period=PERIOD)
    folder = portal.desk(code).reports_dir / PERIOD / "basis" / "technisch-controlerapport-x"  # type: ignore[attr-defined]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(result.report), "utf-8")
    (folder / "bericht.json").write_text(json.dumps({
        "id": f"bench-{code}", "type": "gmsd.technisch-controlerapport", "in_reply_to": None,
        "metadata": {"verdict": result.report["verdict"], "versie": 1},
        "created_at": dt.datetime.now(dt.UTC).isoformat()}), "utf-8")
    return f"/gemeente/{code}/rapporten/{PERIOD}/basis/technisch-controlerapport-x"


def logged_in(url: str, ca: Path, code: str) -> httpx.Client:
    client = httpx.Client(base_url=url, verify=ssl.create_default_context(cafile=str(ca)),
                          timeout=120)
    page = client.get("/inloggen").text
    marker = 'name="csrf_token" value="'
    token = page[page.index(marker) + len(marker):].split('"', 1)[0]
    response = client.post("/inloggen", data={"csrf_token": token,
                                              "email": f"{code.lower()}@bench.ggk",
                                              "wachtwoord": PASSWORD})
    assert response.status_code == 303, response.text
    return client


def page_times(url: str, ca: Path, codes: list[str], report_paths: dict[str, str],
               seconds: float) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"dashboard": [], "rapport": []}
    lock = threading.Lock()
    clients = {code: logged_in(url, ca, code) for code in codes}
    stop = time.monotonic() + seconds

    def user(code: str) -> None:
        client = clients[code]
        while time.monotonic() < stop:
            for kind, path in (("dashboard", f"/gemeente/{code}"),
                               ("rapport", report_paths[code])):
                started = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, (path, response.status_code)
                with lock:
                    times[kind].append(elapsed)

    threads = [threading.Thread(target=user, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients.values():
        client.close()
    return times


def upload_ratio(url: str, hub_url: str, ca: Path, pems: dict[str, Path], portal: object,
                 tmp: Path, megabytes: int) -> dict[str, float]:
    from ggk.client import HubClient
    from ggk.definitions import shipped
    from ggk.gemeente.submit import check_locally, submit_file
    from ggk.testdata.generator import generate

    code = next(iter(pems))
    rows = max(1000, megabytes * 1024 * 1024 // 48)
    generated = generate(shipped().for_period("gmsd", PERIOD), "basis", code, PERIOD, rows=rows,
                         out=tmp / "upload")
    path = Path(generated.path)
    size = path.stat().st_size
    definition = shipped().for_period("gmsd", PERIOD)
    with HubClient(hub_url, cert=pems[code], ca=ca) as client:
        started = time.perf_counter()
        submit_file(client, path, statistic="gmsd", period=PERIOD, dataset="basis", gemeente=code)
        transfer = time.perf_counter() - started
        started = time.perf_counter()
        check_locally(path, period=PERIOD, dataset="basis", gemeente=code, definition=definition)
        submit_file(client, path, statistic="gmsd", period=PERIOD, dataset="basis", gemeente=code)
        cli = time.perf_counter() - started
    client = logged_in(url, ca, code)
    page = client.get(f"/gemeente/{code}/aanleveren").text
    marker = 'data-csrf="'
    token = page[page.index(marker) + len(marker):].split('"', 1)[0]
    import base64

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    started = time.perf_counter()
    created = client.post(f"/gemeente/{code}/tus", headers={
        "X-CSRF-Token": token, "Tus-Resumable": "1.0.0", "Upload-Length": str(size),
        "Upload-Metadata": f"filename {b64(path.name)},dataset {b64('basis')},"
                           f"periode {b64(PERIOD)}"})
    location = created.headers["location"]
    chunk = 8 * 1024 * 1024
    with path.open("rb") as handle:
        offset = 0
        while offset < size:
            data = handle.read(chunk)
            response = client.patch(location, content=data, headers={
                "X-CSRF-Token": token, "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream"})
            assert response.status_code == 204, response.text
            offset += len(data)
    received = time.perf_counter() - started
    upload_id = location.rsplit("/", 1)[1]
    while portal.uploads.get(code, upload_id).state == "controleren":  # type: ignore[attr-defined]
        time.sleep(0.05)
    checked = time.perf_counter() - started
    client.post(f"/gemeente/{code}/aanleveren/{upload_id}/versturen",
                data={"csrf_token": token, "toch": "ja"})
    while portal.uploads.get(code, upload_id).state == "versturen":  # type: ignore[attr-defined]
        time.sleep(0.05)
    state = portal.uploads.get(code, upload_id).state  # type: ignore[attr-defined]
    assert state == "verstuurd", portal.uploads.get(code, upload_id).error  # type: ignore[attr-defined]
    browser = time.perf_counter() - started
    client.close()
    return {"bytes": size, "cli": cli, "transfer": transfer, "browser": browser,
            "received": received, "checked": checked, "ratio": cli / browser,
            "transfer_ratio": transfer / browser}


def record(lines: list[str], argv: str) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = [f"### {stamp}, `python bench/portal.py {argv}`".rstrip(), "",
             f"{platform.machine()}, {os.cpu_count()} cores shared with other developers (load "
             f"average {os.getloadavg()[0]:.1f}); hub, portal and the simulated browsers in one "
             "process, SQLite, loopback TLS. Figures from a shared, loaded machine.", "",
             *lines, ""]
    text = RESULTS.read_text("utf-8")
    if "\n## portal\n" not in text:
        text = text.rstrip("\n") + "\n\n## portal\n\n"
    head, _, tail = text.partition("\n## portal\n")
    rest = tail.split("\n## ", 1)
    earlier = rest[0].strip("\n")
    section = (earlier + "\n\n" if earlier else "") + "\n".join(block) + "\n"
    after = "\n## " + rest[1] if len(rest) > 1 else ""
    RESULTS.write_text(head + "\n## portal\n\n" + section + after, "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gemeenten", type=int, default=342)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--upload-mb", type=int, default=500)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    users = min(args.users, args.gemeenten)
    with tempfile.TemporaryDirectory(prefix="ggk-bench-portal-") as folder:
        tmp = Path(folder)
        started = time.perf_counter()
        hub, hub_url, ca, _cbs, pems, portal, server, url = setup(tmp, args.gemeenten)
        print(f"set-up ({args.gemeenten} municipalities): {time.perf_counter() - started:.1f} s")
        try:
            codes = list(pems)[:users]
            reports = {code: saved_report(portal, code, tmp) for code in codes}
            times = page_times(url, ca, codes, reports, args.seconds)
            upload = upload_ratio(url, hub_url, ca, pems, portal, tmp, args.upload_mb)
        finally:
            server.stop()
            portal.close()
            hub.stop()
    lines = [f"{args.gemeenten} municipalities connected, {users} concurrent users, "
             f"{args.seconds:.0f} s:", "", "| page | requests | p50 ms | p95 ms |",
             "|---|---:|---:|---:|"]
    for kind, values in times.items():
        lines.append(f"| {kind} | {len(values)} | {statistics.median(values) * 1000:.0f} | "
                     f"{percentile(values, 0.95) * 1000:.0f} |")
    mb = upload["bytes"] / 1024 / 1024
    lines += ["", f"Upload of {mb:.0f} MB: CLI path (check, then send, as `ggk gemeente submit`) "
              f"{upload['cli']:.1f} s; browser path {upload['browser']:.1f} s (received by the "
              f"portal after {upload['received']:.1f} s, checked after {upload['checked']:.1f} s "
              "while the portal uploaded to the hub, then the user's send); ratio CLI/browser "
              f"**{upload['ratio']:.2f}** (goal >= 0.9). The CLI's transfer alone (no check) "
              f"{upload['transfer']:.1f} s: ratio {upload['transfer_ratio']:.2f}."]
    print("\n".join(lines))
    if not args.no_record:
        record(lines, " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
