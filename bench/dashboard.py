"""Benchmark of the CBS period dashboard (issue 13).

The station's tables are seeded directly with `--gemeenten` municipalities (default all 342) x 2
statistics (gmsd and a copy of its definition named `tweede`) x 4 periods (2025-H1 .. 2026-H2):
workflow rows for both datasets, one to three validated versions per delivered dataset,
extensions, toelichtingen and audit rows. The dashboard then runs on real uvicorn with loopback
TLS and one logged-in collection manager requests, `--requests` times each, one after another:
the period page (all statistics, page 1), the period page filtered on `te laat`, a municipality's
page, the periods side by side, and the CSV and Excel exports of the whole period. p50/p95 per
page (goal for the period page: p95 < 300 ms). Figures are appended to the `## dashboard`
section of bench/RESULTS.md unless --no-record. On a shared machine run small
(`--requests 10`); the seed is the full size by default because it is cheap.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import shutil
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
RESULTS = ROOT / "bench" / "RESULTS.md"
PASSWORD = "bench-wachtwoord-1"
PERIODS = ("2025-H1", "2025-H2", "2026-H1", "2026-H2")
STATISTICS = ("gmsd", "tweede")


def definitions(root: Path) -> Path:
    """gmsd's definition for four periods, and a copy of it as a second statistic."""
    from ggk.definitions.registry import SHIPPED

    for statistic in STATISTICS:
        target = root / statistic / "2026"
        shutil.copytree(SHIPPED / "gmsd" / "2026", target)
        calendar = (target / "calendar.toml").read_text("utf-8")
        calendar = calendar.replace('periods = ["2026-H1", "2026-H2"]',
                                    f"periods = {list(PERIODS)!r}".replace("'", '"'))
        (target / "calendar.toml").write_text(calendar, "utf-8")
        package = (target / "datapackage.json").read_text("utf-8")
        package = package.replace('"name": "gmsd"', f'"name": "{statistic}"', 1)
        (target / "datapackage.json").write_text(
            package.replace('"ggk:statistic": "gmsd"', f'"ggk:statistic": "{statistic}"', 1),
            "utf-8")
    return root


def seed(engine: sa.Engine, gemeenten: list[str], now: dt.datetime) -> int:
    """Rows straight into the station's tables; returns the number of workflow rows."""
    from ggk.station import tables as t

    rng = random.Random(13)
    workflow, deliveries, audit, extensions = [], [], [], []
    states = ("goedgekeurd", "spiegelrapport-verzonden", "opt-in", "afgekeurd", "ingetrokken",
              "geen-aanlevering", "correctie-afgekeurd")
    for statistic in STATISTICS:
        for number, period in enumerate(PERIODS):
            base = dt.datetime(2025 + number // 2, 8 if number % 2 == 0 else 2, 20,
                               tzinfo=dt.UTC) + dt.timedelta(days=183 * (number % 2))
            for code in gemeenten:
                for dataset in ("basis", "facultatief"):
                    state = rng.choice(states if dataset == "basis" else states[:2] + states[5:6])
                    versions = 0 if state == "geen-aanlevering" else rng.randint(1, 3)
                    accepted = versions if state not in ("afgekeurd", "geen-aanlevering") else None
                    last = base + dt.timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 999))
                    workflow.append(dict(statistic=statistic, period=period, gemeente=code,
                                         dataset=dataset, state=state, accepted_version=accepted,
                                         versions=versions, last_delivery_at=last if versions
                                         else None, updated_at=last))
                    for version in range(1, versions + 1):
                        message_id = f"{statistic}-{period}-{code}-{dataset}-{version}"
                        verdict = "goedgekeurd" if accepted == version else "afgekeurd"
                        received = last - dt.timedelta(days=versions - version)
                        deliveries.append(dict(
                            message_id=message_id, statistic=statistic, period=period,
                            gemeente=code, dataset=dataset, version=version, sender="0" * 20,
                            file_name=f"{code}-{period}-{dataset}.csv", sha256="0" * 64,
                            bytes=1000, verdict=verdict, rows=500, errors=0 if verdict ==
                            "goedgekeurd" else 3, warnings=1, received_at=received,
                            sent_at=received))
                        audit.append(dict(at=received, event=verdict, statistic=statistic,
                                          period=period, gemeente=code, dataset=dataset,
                                          to_state=state, message_id=message_id))
                if rng.random() < 0.1:
                    audit.append(dict(at=base, event="toelichting", statistic=statistic,
                                      period=period, gemeente=code, detail='{"toelichting": '
                                      '"klopt, nieuwe voorziening", "indicator": "I1"}'))
                if rng.random() < 0.05:
                    extensions.append(dict(statistic=statistic, period=period, gemeente=code,
                                           until=base.date() + dt.timedelta(days=70),
                                           granted_at=base, reason="bench"))
    with engine.begin() as conn:
        conn.execute(sa.insert(t.workflow), workflow)
        conn.execute(sa.insert(t.deliveries), deliveries)
        keys = ("at", "event", "statistic", "period", "gemeente", "dataset", "to_state",
                "message_id", "detail")
        conn.execute(sa.insert(t.audit), [{k: row.get(k) for k in keys} for row in audit])
        if extensions:
            conn.execute(sa.insert(t.extensions), extensions)
    return len(workflow)


class FixedClock:
    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def now(self) -> dt.datetime:
        return self.moment


def timed(http: httpx.Client, path: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        answer = http.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: HTTP {answer.status_code}")
    return times


def csrf_of(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeenten", type=int, default=342)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database-url", help="station database (default SQLite in a temp dir)")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()

    from ggk.dashboard.app import Dashboard, DashboardSettings
    from ggk.definitions import FolderRegistry
    from ggk.pki import init_ca, issue_server_cert
    from ggk.refdata import register
    from ggk.station.database import create_engine, migrate
    from ggk.station.period_records import StationPeriodRecords
    from ggk.station.storage import FileStore
    from ggk.web.interfaces import INTERNAL, Membership
    from ggk.web.server import BackgroundServer

    now = dt.datetime(2026, 9, 20, 10, tzinfo=dt.UTC)
    clock = FixedClock(now)
    with tempfile.TemporaryDirectory(prefix="ggk-bench-dashboard-") as folder:
        tmp = Path(folder)
        registry = FolderRegistry(definitions(tmp / "definitions"))
        url = args.database_url or f"sqlite:///{tmp / 'station.sqlite3'}"
        engine = create_engine(url)
        migrate(engine)
        gemeenten = [(g.code, g.naam) for g in register().all()][:args.gemeenten]
        started = time.perf_counter()
        rows = seed(engine, [code for code, _ in gemeenten], now)
        seeded = time.perf_counter() - started
        records = StationPeriodRecords(engine, FileStore(tmp / "store"), registry, clock,
                                       gemeenten)
        dashboard = Dashboard(DashboardSettings(data_dir=tmp / "dashboard", records=records,
                                                clock=clock))
        dashboard.migrate()
        dashboard.web.accounts.create("bench@cbs.nl", "Bench", PASSWORD,
                                      memberships=[Membership(INTERNAL, "verzamelbeheer")])
        init_ca(tmp / "ca")
        (tmp / "server.pem").write_bytes(issue_server_cert(tmp / "ca", ["127.0.0.1"]))
        server = BackgroundServer(dashboard.create_app(), cert=tmp / "server.pem")
        base = server.start()
        context = ssl.create_default_context(cafile=str(tmp / "ca" / "ca.pem"))
        pages = {
            "period page (all statistics, page 1)": "/?periode=2026-H1",
            "period page, filter te laat": "/?periode=2026-H1&filter=te-laat",
            "municipality page": f"/gemeente/{gemeenten[len(gemeenten) // 2][0]}?periode=2026-H1",
            "periods side by side": "/vergelijken?statistiek=gmsd",
            "export CSV (whole period)": "/export.csv?periode=2026-H1",
            "export Excel (whole period)": "/export.xlsx?periode=2026-H1",
        }
        results = {}
        try:
            with httpx.Client(base_url=base, verify=context, timeout=60) as http:
                login = http.get("/inloggen")
                http.post("/inloggen", data={"csrf_token": csrf_of(login.text),
                                             "email": "bench@cbs.nl", "wachtwoord": PASSWORD})
                for name, path in pages.items():
                    timed(http, path, 2)  # warm up (templates, caches)
                    results[name] = timed(http, path, args.requests)
        finally:
            server.stop()
            dashboard.close()
            engine.dispose()

    load = os.getloadavg()[0]
    lines = [
        f"### {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, `python bench/dashboard.py "
        f"--gemeenten {args.gemeenten} --requests {args.requests}`",
        "",
        f"{platform.machine()}, {os.cpu_count()} cores shared with other developers (load "
        f"average {load:.1f}); dashboard and client in one process, "
        f"{'PostgreSQL' if args.database_url else 'SQLite'}, loopback TLS. Figures from a "
        "shared, loaded machine.",
        "",
        f"Seeded {args.gemeenten} municipalities x {len(STATISTICS)} statistics x "
        f"{len(PERIODS)} periods: {rows} workflow rows in {seeded:.1f} s.",
        "",
        "| page | requests | p50 ms | p95 ms |",
        "|---|---:|---:|---:|",
    ]
    for name, times in results.items():
        lines.append(f"| {name} | {len(times)} | {statistics.median(times):.0f} | "
                     f"{p95(times):.0f} |")
    goal = p95(results["period page (all statistics, page 1)"])
    lines += ["", f"Period page p95 **{goal:.0f} ms** (goal < 300 ms).", ""]
    text = "\n".join(lines)
    print(text)
    if not args.no_record:
        existing = RESULTS.read_text("utf-8")
        if "\n## dashboard\n" not in existing:
            existing = existing.rstrip("\n") + "\n\n## dashboard\n"
        RESULTS.write_text(existing.rstrip("\n") + "\n\n" + text, "utf-8")


if __name__ == "__main__":
    main()
