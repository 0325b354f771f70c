"""`ggk pilot`: the whole chain in one process, period 2026-H1 played on a simulated clock.

Hub (loopback TLS, SQLite) and CBS station run in this process; four pilot gemeenten of different
size classes deliver through the same library functions as `ggk gemeente` (submit_file,
send_besluit, Inbox). Everything goes under the data dir, which is wiped first (docs/pilot.md).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from ggk.client import HubClient
from ggk.conversation import ANSWERS, Kind
from ggk.definitions import shipped
from ggk.gemeente.inbox import Inbox, ReceivedReport
from ggk.gemeente.ketentest import findings_by_code, make_correction
from ggk.gemeente.submit import send_besluit, submit_file

PERIOD = "2026-H1"
# The pilot plays the default statistic (the first shipped one) through its whole story; every
# other shipped statistic follows by its definition alone (see _other_statistics).
STATISTIC = shipped().default_statistic()
# (gemeentecode, role in the story); one per size class group: 2/3, 4, 5/6, 7/8
PILOT_GEMEENTEN = ("GM0072", "GM0397", "GM1900", "GM0014")
REJECTED_FIRST = "GM0072"  # first delivery has defects, then a corrected one
CORRECTS = "GM0397"  # sends a correctielevering in the correctieperiode
WITHDRAWS = "GM1900"  # opts in, then withdraws before the besluit deadline
REPLY_TIMEOUT = 120.0
MIRROR_TIMEOUT = 90.0

log = logging.getLogger("ggk.pilot")


class PilotError(Exception):
    """The pilot could not start (data dir not writable, port trouble); English for operators."""


@dataclass
class PilotGemeente:
    code: str
    naam: str
    inwoners: int
    klasse: int
    oin: str
    pem: Path
    rows: int
    scaled: bool
    client: HubClient | None = None
    inbox: Inbox | None = None
    files: dict[str, Path] = field(default_factory=dict)


@dataclass
class PilotResult:
    data_dir: Path
    states: dict[str, str]
    seconds: float
    steps: list[tuple[str, float]]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


class Pilot:
    def __init__(self, data_dir: Path, *, seed: int = 2026, max_rows: int = 25_000,
                 console: Console | None = None,
                 after: Callable[[Pilot], None] | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.after = after  # runs after the play while hub and station still run (the portal)
        self.seed = seed
        self.max_rows = max_rows
        self.console = console or Console()
        self.steps: list[tuple[str, float]] = []
        self.problems: list[str] = []
        self.gemeenten: dict[str, PilotGemeente] = {}
        self.release: Any = None  # the publication release of step 8
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._closers: list[Any] = []
        self._current = ""
        self._stopped = False
        self.other_states: dict[str, dict[str, str]] = {}
        # the dataset the story delivers: the required one of the statistic's definition
        self.required = shipped().for_period(STATISTIC, PERIOD).required_dataset

    # -- structure -----------------------------------------------------------------------------

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self._current = title
        self.console.rule(f"[bold cyan]{title}")
        log.info("pilot step start: %s", title)
        started = time.monotonic()
        yield
        seconds = time.monotonic() - started
        log.info("pilot step done in %.1f s: %s", seconds, title)
        self.steps.append((title, seconds))
        self.console.print(f"[dim]({seconds:.1f} s)[/]")

    def say(self, text: str) -> None:
        self.console.print(text)

    def problem(self, text: str) -> None:
        self.problems.append(text)
        self.console.print(f"[bold red]PROBLEEM[/] {text}")
        log.error("pilot problem: %s", text)

    def run(self) -> PilotResult:
        started = time.monotonic()
        self._prepare_dir()
        try:
            with self.step("1. Voorbereiding: test-CA, certificaten, hub en station"):
                self._pki()
                self._start_hub()
                self._start_station()
            with self.step("2. Testbestanden (synthetisch, met antwoordsleutel)"):
                self._testdata()
            with self.step("3. Burentest: elke partij met CBS, beide richtingen"):
                self._burentest()
            with self.step("4. Aanleverperiode (15 augustus - 30 september 2026)"):
                self._aanleverperiode()
            with self.step("5. Correctieperiode (tot 15 oktober 2026)"):
                self._correctieperiode()
            with self.step("6. Besluiten: opt-in en intrekken (tot 31 oktober 2026)"):
                self._besluiten()
            with self.step("7. Beheerdersoverzicht (station status)"):
                states = self._operator_view()
            with self.step("8. Evaluatie voor VWS (ggk evaluatie)"):
                self._evaluation()
            with self.step("9. Publicatie na de besluitdeadline (stap van het station)"):
                from ggk.publication.views import show_station_publication

                self.release = show_station_publication(self.station, STATISTIC, PERIOD,
                                                        self.console)
                if self.release is None:
                    self.problem("geen publicatie gemaakt (zie logs/pilot.log)")
            others = [d for d in shipped().all() if d.statistic != STATISTIC]
            with self.step("10. Andere statistieken, alleen als data: " + ", ".join(
                    f"{d.title} ({d.periods[-1]})" for d in others)):
                self.other_states = self._other_statistics(others)
        except PilotError:
            raise
        except Exception as e:  # noqa: BLE001 - a broken piece ends the play with a clear panel
            log.exception("pilot stopped")
            self.problem(f"de pilot stopte bij stap '{self._current}': {type(e).__name__}: {e} "
                         "(details in logs/pilot.log); de stappen daarna zijn overgeslagen")
            states, self._stopped = {}, True
        finally:
            if self.after is None or sys.exc_info()[0] is not None:
                self._shutdown()
        seconds = time.monotonic() - started
        self._summary(states, seconds)
        if self.after is not None:
            try:
                self.after(self)
            finally:
                self._shutdown()
        return PilotResult(self.data_dir, states, seconds, self.steps, self.problems)

    def _prepare_dir(self) -> None:
        try:
            if self.data_dir.exists():
                shutil.rmtree(self.data_dir)
            for sub in ("pki", "hub", "station", "invoer", "gemeenten", "logs"):
                (self.data_dir / sub).mkdir(parents=True)
        except OSError as e:
            raise PilotError(f"cannot prepare {self.data_dir}: {e}") from e
        handler = logging.FileHandler(self.data_dir / "logs" / "pilot.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root = logging.getLogger("ggk")
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        self._closers.append(lambda: (root.removeHandler(handler), handler.close()))

    # -- 1. setup ------------------------------------------------------------------------------

    def _pki(self) -> None:
        from ggk.refdata import register
        from ggk.world import build_pki, cbs_party, gemeente_party, operator_party

        pki_dir = self.data_dir / "pki"
        refdata = register()
        self.pki = build_pki(pki_dir, [cbs_party(), operator_party("beheer"),
                                       *(gemeente_party(code) for code in PILOT_GEMEENTEN)],
                             server_hosts=("127.0.0.1", "localhost"))
        self.ca = self.pki.ca
        self.server_pem = self.pki.server_pem
        self.cbs_oin, self.cbs_pem = self.pki.oin["cbs"], self.pki.pem["cbs"]
        self.operator_oin, self.operator_pem = self.pki.oin["beheer"], self.pki.pem["beheer"]
        table = Table(title="Partijen (test-OIN's, test-CA: nooit voor productie)")
        for column in ("partij", "OIN", "rol", "klasse", "inwoners", "regels"):
            table.add_column(column, no_wrap=column == "OIN")
        table.add_row("CBS", self.cbs_oin, "cbs", "", "", "")
        table.add_row("Beheer ggk", self.operator_oin, "operator", "", "", "")
        for code in PILOT_GEMEENTEN:
            g = refdata.get(code)
            oin, pem = self.pki.oin[code], self.pki.pem[code]
            natural = self._natural_rows(g.inwoners)
            rows = min(natural, self.max_rows)
            self.gemeenten[code] = PilotGemeente(code, g.naam, g.inwoners, g.grootteklasse, oin,
                                                 pem, rows, rows < natural)
            label = f"{rows:,}".replace(",", ".") + (f" (verkleind van {natural:,})".replace(
                ",", ".") if rows < natural else "")
            table.add_row(f"{g.naam} ({code})", oin, "gemeente", str(g.grootteklasse),
                          f"{g.inwoners:,}".replace(",", "."), label)
        self.say(f"Test-CA (CN zegt TEST) in {self.ca.parent}; partijcertificaten in {pki_dir}.")
        self.console.print(table)

    @staticmethod
    def _natural_rows(inwoners: int) -> int:
        """About what ggk.testdata draws from the population (60 clients per 1,000, 1.6 each)."""
        return max(50, round(inwoners * 0.060 * 1.6))

    def _start_hub(self) -> None:
        from ggk.world import start_hub

        try:
            self.hub = start_hub(self.pki, data_dir=self.data_dir / "hub")
        except Exception as e:
            raise PilotError(f"the hub did not start: {e}") from e
        self.base_url = self.hub.base_url
        self._closers.append(self.hub.stop)
        self.say(f"Hub draait op [bold]{self.base_url}[/] (mutual TLS, SQLite in "
                 f"{self.hub.settings.resolved_database_url().removeprefix('sqlite:///')}); "
                 f"{2 + len(self.gemeenten)} partijen geregistreerd.")

    def _start_station(self) -> None:
        from ggk.station import SimulatedClock, StationSettings
        from ggk.world import run_station

        self.clock = SimulatedClock.on("2026-08-01")
        self.running_station = run_station(
            self.base_url, self.cbs_pem, self.ca, self.clock,
            StationSettings(data_dir=self.data_dir / "station", poll_wait=1.0,
                            rescan_seconds=5.0), stop=self._stop)
        self.station = self.running_station.station
        self.cbs_client = self.running_station.client
        self._closers.append(self.running_station.close)
        self._threads.append(self.running_station.thread)
        self.say("Station (CBS) draait in dit proces met een gesimuleerde klok; "
                 "spiegelrapporten via ggk.mirror.")
        for g in self.gemeenten.values():
            g.client = self.hub.client_for(g.code)
            self._closers.append(g.client.close)
            g.inbox = Inbox(g.client, self.data_dir / "gemeenten" / g.code / "rapporten")

    def _shutdown(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)
        for close in reversed(self._closers):
            try:
                close()
            except Exception as e:  # noqa: BLE001 - shutting down; log and go on
                log.warning("while shutting down: %s", e)
        self._closers.clear()

    # -- 2. test data --------------------------------------------------------------------------

    def _testdata(self) -> None:
        from ggk.definitions import shipped
        from ggk.testdata import generate
        from ggk.testdata.recipe import load_recipe

        definition = shipped().for_period(STATISTIC, PERIOD)
        dataset = definition.required_dataset
        defects = load_recipe(definition).demo_defects  # [demo] defects of its testdata.toml
        table = Table()
        table.title = f"in {self.data_dir / 'invoer'}/<GM>/"
        for column in ("gemeente", "bestand", "regels", "antwoordsleutel"):
            table.add_column(column, no_wrap=column == "bestand")
        for i, g in enumerate(self.gemeenten.values()):
            out = self.data_dir / "invoer" / g.code
            good = generate(definition, dataset, g.code, PERIOD, rows=g.rows,
                            seed=self.seed + i, out=out)
            g.files[dataset] = good.path
            table.add_row(g.naam, good.path.name, str(g.rows), "")
            if g.code == REJECTED_FIRST:
                bad = generate(definition, dataset, g.code, PERIOD, rows=g.rows, errors=defects,
                               seed=self.seed + i, out=out / "eerste-poging")
                g.files["eerste-poging"] = bad.path
                g.files["antwoordsleutel"] = bad.key_path
                counts = bad.key.counts()
                table.add_row(g.naam, f"eerste-poging/{bad.path.name}", str(g.rows),
                              "\n".join(f"{c}{':' + k if k else ''} {n}" for (c, k), n in
                                        sorted(counts.items(), key=lambda kv: kv[0][0])))
            if g.code == CORRECTS:
                extra = generate(definition, dataset, g.code, PERIOD, rows=50,
                                 seed=self.seed + 100 + i, out=out / "extra")
                correction = out / "correctie" / good.path.name
                correction.parent.mkdir(parents=True, exist_ok=True)
                make_correction(good.path, extra.path, correction)
                g.files["correctie"] = correction
                table.add_row(g.naam, f"correctie/{correction.name}",
                              str(g.rows - 10 + 5), "correctie: 10 regels weg, 5 erbij")
        self.console.print(table)

    # -- 3. burentest --------------------------------------------------------------------------

    def _burentest(self) -> None:
        from ggk.client.burentest import run_burentest

        table = Table()
        for column in ("partij", "controles", "partij->CBS->partij", "CBS->partij->CBS",
                       "uitkomst"):
            table.add_column(column)
        parties = [(g.naam, g.pem) for g in self.gemeenten.values()]
        parties.append(("Beheer ggk", self.operator_pem))
        for name, pem in parties:
            report = run_burentest(self.base_url, pem, self.ca, self.cbs_oin, timeout=30)
            trips = [f"{c.seconds * 1000:.0f} ms" if c.seconds is not None else c.status
                     for c in report.checks if "->" in c.name]
            trips += ["-"] * (2 - len(trips))
            ok = report.passed
            table.add_row(name, f"{sum(c.status == 'ok' for c in report.checks)}/"
                          f"{len(report.checks)} ok", trips[0], trips[1],
                          "[green]geslaagd[/]" if ok else "[red]mislukt[/]")
            if not ok:
                self.problem(f"burentest {name}: " + "; ".join(
                    f"{c.name}: {c.detail}" for c in report.checks if c.status == "failed"))
        self.console.print(table)

    # -- 4..6. the period ----------------------------------------------------------------------

    def _at(self, day: str) -> None:
        self.clock.set(self.clock.on(day).now())
        self.console.print(f"[bold]{dt.date.fromisoformat(day):%d-%m-%Y}[/]")

    def _deliver(self, g: PilotGemeente, file_key: str, *, expect: str,
                 statistic: str = STATISTIC, period: str = PERIOD,
                 dataset: str | None = None) -> ReceivedReport | None:
        assert g.client is not None and g.inbox is not None
        path = g.files[file_key]
        with Progress("  [progress.description]{task.description}", BarColumn(),
                      DownloadColumn(), TransferSpeedColumn(), console=self.console,
                      transient=True) as bar:
            task = bar.add_task(f"{g.naam} uploadt {path.name}", total=path.stat().st_size)
            sent = submit_file(g.client, path, statistic=statistic, period=period,
                               dataset=dataset or self.required, gemeente=g.code,
                               cbs_oin=self.cbs_oin, progress=lambda _n, done, total:
                               bar.update(task, completed=done, total=total))
        size = f"{path.stat().st_size / 1e6:.1f} MB"
        reply = g.inbox.wait_for(sent.id, ANSWERS[Kind.AANLEVERING], REPLY_TIMEOUT)
        if reply is None:
            self.problem(f"{g.naam}: geen controlerapport binnen {REPLY_TIMEOUT:.0f} s")
            return None
        report = reply.report_json() or {}
        verdict = report.get("verdict", reply.type)
        colour = "green" if verdict == "goedgekeurd" else "red"
        m = reply.message.metadata or {}
        self.say(f"  {g.naam} levert {file_key} aan ({size}) -> [bold {colour}]{verdict}[/] "
                 f"(versie {m.get('versie', '-')}, {m.get('rows', '?')} regels, "
                 f"{m.get('errors', '?')} fouten, {m.get('warnings', '?')} waarschuwingen)")
        if reply.kind is Kind.WEIGERING:
            self.say(f"    {reply.describe()}")
        if report.get("findings"):
            found = findings_by_code(report)
            self.say("    bevindingen: " + ", ".join(
                f"{c}{':' + k if k else ''} {n}" for (c, k), n in found.items()))
        if report.get("wijzigingen"):
            w = report["wijzigingen"]
            self.say(f"    wijzigingen t.o.v. versie {w.get('vorige_versie')}: "
                     f"{w.get('toegevoegd')} toegevoegd, {w.get('verwijderd')} verwijderd, "
                     f"{w.get('gewijzigd')} gewijzigd, {w.get('ongewijzigd')} ongewijzigd")
        self.say(f"    rapport: {self._where(g, reply)}")
        if verdict != expect:
            self.problem(f"{g.naam}: verwacht {expect}, kreeg {verdict}")
        if verdict == "goedgekeurd":
            self._mirror(g, sent.id)
        return reply

    def _mirror(self, g: PilotGemeente, message_id: str) -> None:
        assert g.inbox is not None
        reply = g.inbox.wait_for(message_id, (Kind.SPIEGELRAPPORT,), MIRROR_TIMEOUT)
        if reply is None:
            self.say(f"    [yellow]geen spiegelrapport binnen {MIRROR_TIMEOUT:.0f} s "
                     "(zie logs/pilot.log)[/]")
            return
        kinds = ", ".join(sorted(path.suffix.lstrip(".") for path in reply.files))
        self.say(f"    spiegelrapport ({kinds}): {self._where(g, reply)}")

    def _where(self, g: PilotGemeente, reply: ReceivedReport) -> str:
        """The report's folder under gemeenten/<GM>/rapporten/ (said once in step 4's intro)."""
        assert g.inbox is not None
        return f"{reply.directory.relative_to(g.inbox.out_dir).as_posix()}/"

    def _aanleverperiode(self) -> None:
        g = self.gemeenten
        self.say("[dim]Elke gemeente haalt haar rapporten op en bevestigt ze; ze staan in "
                 "gemeenten/<GM>/rapporten/<periode>/<dataset>/<soort>-<tijd>-<id>/.[/]")
        self._at("2026-08-17")
        required = self.required
        self._deliver(g["GM0014"], required, expect="goedgekeurd")
        self._at("2026-08-24")
        self._deliver(g[REJECTED_FIRST], "eerste-poging", expect="afgekeurd")
        self._check_answer_key(g[REJECTED_FIRST])
        self._at("2026-08-26")
        self._deliver(g[REJECTED_FIRST], required, expect="goedgekeurd")
        self._at("2026-09-10")
        self._deliver(g[CORRECTS], required, expect="goedgekeurd")
        self._at("2026-09-29")
        self._deliver(g[WITHDRAWS], required, expect="goedgekeurd")

    def _check_answer_key(self, g: PilotGemeente, key: str = "antwoordsleutel") -> None:
        from ggk.testdata import AnswerKey

        assert g.inbox is not None
        reports = [r.report_json() for r in g.inbox.received
                   if r.kind is Kind.TECHNISCH_CONTROLERAPPORT]
        expected = AnswerKey.read(g.files[key]).counts()
        got = findings_by_code(reports[-1] or {}) if reports else {}
        if got == dict(expected):
            self.say("    [green]precies de fouten uit de antwoordsleutel gevonden[/]")
        else:
            self.problem(f"{g.naam}: bevindingen {got} wijken af van de antwoordsleutel "
                         f"{dict(expected)}")

    def _correctieperiode(self) -> None:
        self._at("2026-10-06")
        self._deliver(self.gemeenten[CORRECTS], "correctie", expect="goedgekeurd")

    def _besluit(self, g: PilotGemeente, besluit: str, toelichting: str, *,
                 statistic: str = STATISTIC, period: str = PERIOD) -> None:
        assert g.client is not None and g.inbox is not None
        sent = send_besluit(g.client, statistic=statistic, period=period, besluit=besluit,
                            gemeente=g.code,
                            toelichting=toelichting, cbs_oin=self.cbs_oin)
        reply = g.inbox.wait_for(sent.id, ANSWERS[Kind.BESLUIT], REPLY_TIMEOUT)
        if reply is None or reply.kind is not Kind.BEVESTIGING:
            self.problem(f"{g.naam}: besluit {besluit} niet bevestigd "
                         f"({reply.describe() if reply else 'geen antwoord'})")
            return
        self.say(f"  {g.naam}: {besluit} -> [green]{reply.describe()}[/]")

    def _besluiten(self) -> None:
        self._at("2026-10-20")
        for g in self.gemeenten.values():
            self._besluit(g, "opt-in", "Akkoord met publicatie na controle spiegelrapport.")
        self._at("2026-10-28")
        self._besluit(self.gemeenten[WITHDRAWS], "intrekken",
                      "Registratiefout ontdekt bij de leverancier; wij trekken in.")

    # -- 10. the other statistics ---------------------------------------------------------------

    def _other_statistics(self, definitions: list[Any]) -> dict[str, dict[str, str]]:
        """Every other shipped statistic through the same chain, by its definition alone: the
        last period of its edition, on its own calendar (the clock only moves forward). One
        gemeente first delivers a file with the defects the definition has; everyone delivers a
        clean file, receives the spiegelrapport with the statistic's own indicators and opts in."""
        from ggk.gemeente.ketentest import DEFECT_COUNTS
        from ggk.refdata import register
        from ggk.station.status_view import print_status
        from ggk.testdata import generate
        from ggk.testdata.defects import Catalogue

        states: dict[str, dict[str, str]] = {}
        for definition in definitions:
            name, period = definition.statistic, definition.periods[-1]
            dataset = definition.required_dataset
            events = definition.calendar(period).events
            opens = events["aanlevering_open"] + dt.timedelta(days=2)
            if opens <= self.clock.now().date():
                self.problem(f"{name} {period}: de aanleverperiode ligt al achter de klok")
                continue
            self.say(f"[bold]{definition.title}[/]: periode {period} ({definition.period_kind}), "
                     f"dataset {dataset}")
            catalogue = Catalogue.of(definition, dataset)
            defects = {c: n for c, n in DEFECT_COUNTS.items() if c in catalogue.columns}
            self._at(opens.isoformat())
            for i, g in enumerate(self.gemeenten.values()):
                out = self.data_dir / "invoer" / g.code / name
                if g.code == REJECTED_FIRST:
                    bad = generate(definition, dataset, g.code, period, errors=defects,
                                   seed=self.seed + i, out=out / "eerste-poging")
                    g.files[f"{name}-eerste-poging"] = bad.path
                    g.files[f"{name}-antwoordsleutel"] = bad.key_path
                    self._deliver(g, f"{name}-eerste-poging", expect="afgekeurd", statistic=name,
                                  period=period, dataset=dataset)
                    self._check_answer_key(g, f"{name}-antwoordsleutel")
                good = generate(definition, dataset, g.code, period, seed=self.seed + i, out=out)
                g.files[name] = good.path
                self._deliver(g, name, expect="goedgekeurd", statistic=name, period=period,
                              dataset=dataset)
            self._at((events["correctie_sluit"] + dt.timedelta(days=1)).isoformat())
            for g in self.gemeenten.values():
                self._besluit(g, "opt-in", "Akkoord na controle spiegelrapport.",
                              statistic=name, period=period)
            gemeenten = [(g.code, g.naam) for g in register().all()]
            status = print_status(self.station.engine, definition, period, self.clock, gemeenten,
                                  console=self.console)
            states[name] = {row.gemeente: str(row.state) for row in status.rows
                            if row.gemeente in self.gemeenten and row.dataset == dataset}
        return states

    # -- 7. operator view ----------------------------------------------------------------------

    def _operator_view(self) -> dict[str, str]:
        from ggk.refdata import register
        from ggk.station.status_view import print_status

        self._at("2026-11-01")
        health = None
        try:
            with HubClient(self.base_url, cert=self.operator_pem, ca=self.ca) as operator:
                parties = {p.oin: p for p in operator.parties()}
                health = [(parties.get(m.oin), m) for m in operator.monitoring()]
        except Exception as e:  # noqa: BLE001 - the view still works without channel health
            self.say(f"[yellow]geen kanaalgezondheid: {e}[/]")
        definition = shipped().for_period(STATISTIC, PERIOD)
        gemeenten = [(g.code, g.naam) for g in register().all()]
        status = print_status(self.station.engine, definition, PERIOD, self.clock, gemeenten,
                              health=health, console=self.console)
        return {row.gemeente: str(row.state) for row in status.rows
                if row.gemeente in self.gemeenten and row.dataset == self.required}

    def _evaluation(self) -> None:
        from ggk.definitions import shipped
        from ggk.evaluation import build_evaluation
        from ggk.station.evaluation_records import StationEvaluationRecords

        records = StationEvaluationRecords(self.station.engine, self.station.store)
        report = build_evaluation(records, shipped().for_period(STATISTIC, PERIOD), PERIOD,
                                  now=self.clock.now())
        self.evaluation = report.write(self.data_dir / "evaluatie")
        self.say("Evaluatierapport: " + ", ".join(str(p) for p in self.evaluation))

    def _summary(self, states: dict[str, str], seconds: float) -> None:
        expected = {code: "opt-in" for code in self.gemeenten} | {WITHDRAWS: "ingetrokken"}
        for code, state in expected.items():
            if not self._stopped and states.get(code) != state:
                self.problem(f"{code}: eindtoestand {states.get(code)}, verwacht {state}")
        for name, other in self.other_states.items():
            for code in self.gemeenten:
                if not self._stopped and other.get(code) != "opt-in":
                    self.problem(f"{name} {code}: eindtoestand {other.get(code)}, verwacht opt-in")
        summary = {
            "periode": PERIOD, "seconden": round(seconds, 1), "eindtoestanden": states,
            "andere_statistieken": self.other_states,
            "stappen": [{"stap": t, "seconden": round(s, 1)} for t, s in self.steps],
            "problemen": self.problems, "hub": self.base_url,
            "gemeenten": {g.code: {"naam": g.naam, "oin": g.oin, "grootteklasse": g.klasse,
                                   "regels": g.rows, "verkleind": g.scaled}
                          for g in self.gemeenten.values()},
        }
        (self.data_dir / "pilot-samenvatting.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False), "utf-8")
        d = self.data_dir
        lines = [
            "Eindtoestanden: " + ", ".join(f"{self.gemeenten[c].naam} {s}"
                                            for c, s in states.items()),
            f"Rapporten per gemeente: {d / 'gemeenten'}/<GM>/rapporten/",
            f"Invoerbestanden:        {d / 'invoer'}",
            f"Certificaten (TEST):    {d / 'pki'}",
            f"Hub (SQLite, opslag):   {d / 'hub'}",
            f"Station:                {d / 'station'}",
            f"Publicatie:             {self.release.directory if self.release else '-'}",
            f"Log:                    {d / 'logs' / 'pilot.log'}",
            f"Samenvatting:           {d / 'pilot-samenvatting.json'}",
            f"Evaluatie (VWS):        {d / 'evaluatie' / f'evaluatie-{STATISTIC}-{PERIOD}.html'}"
            " (en .pdf, .json)",
            f"Duur: {seconds:.0f} s",
        ]
        ok = not self.problems
        self.console.print(Panel("\n".join(lines), title="Pilot geslaagd" if ok else
                                 f"Pilot met {len(self.problems)} probleem/problemen",
                                 border_style="green" if ok else "red"))


def run_pilot(data_dir: Path, *, seed: int = 2026, max_rows: int = 25_000,
              console: Console | None = None,
              after: Callable[[Pilot], None] | None = None) -> PilotResult:
    """Wipe `data_dir`, play period 2026-H1 and return the final states (see docs/pilot.md);
    `after(pilot)` runs at the end while hub and station still run (`ggk pilot --portal`)."""
    return Pilot(data_dir, seed=seed, max_rows=max_rows, console=console, after=after).run()
