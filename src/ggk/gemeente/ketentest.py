"""The ketentest (chain test): a gemeente checks the whole chain gemeente -> hub -> station -> back.

Steps, each asserted, each timed:
1. a file with known defects (ggk.testdata + answer key) -> afgekeurd with exactly those findings;
2. the same file without defects -> goedgekeurd;
3. a correctielevering (rows removed and added) -> goedgekeurd with a change summary (wijzigingen);
4. a spiegelrapport, when the station produces one within the timeout (else skipped, with why);
5. besluit opt-in -> bevestiging.
Every delivery and the besluit are marked as test (ggk.conversation): CBS answers them on a track
of their own, so they never count as the municipality's data, in others' figures or as its besluit.
A failed step stops the test: the steps after it are skipped (they depend on it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ggk.client.interfaces import ClientError, HubApi
from ggk.conversation import ANSWERS, Kind
from ggk.definitions import Definition
from ggk.gemeente.inbox import Inbox
from ggk.gemeente.submit import own_gemeentecode, send_besluit, submit_file

Outcome = Literal["geslaagd", "mislukt", "overgeslagen"]
# the defects of step 1, as far as the statistic's definition has them (field codes are spread
# over the columns they apply to, the same way for the same seed)
DEFECT_COUNTS = {"elfproef": 3, "verplicht": 2, "codelijst": 2, "dubbel-record": 2}
ROWS = 400  # at most; a statistic whose recipe holds fewer rows gets as many as it holds
REMOVED, ADDED = 10, 5


class StepFailed(Exception):
    """A step's assertion did not hold (Dutch message)."""


class StepSkipped(Exception):
    """A step could not be checked for a reason outside the chain (Dutch message)."""


@dataclass
class StepResult:
    name: str
    outcome: Outcome
    detail: str
    seconds: float | None = None


@dataclass
class KetentestReport:
    steps: list[StepResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no step failed and the required steps (all but the spiegelrapport) passed."""
        optional_skipped = (STEP_MIRROR,)
        return len(self.steps) == len(STEPS) and all(
            s.outcome == "geslaagd" or (s.outcome == "overgeslagen" and s.name in optional_skipped)
            for s in self.steps)


STEP_DEFECT = "1 bestand met bekende fouten -> afgekeurd"
STEP_GOOD = "2 verbeterd bestand -> goedgekeurd"
STEP_CORRECTION = "3 correctielevering -> goedgekeurd met wijzigingen"
STEP_MIRROR = "4 spiegelrapport"
STEP_BESLUIT = "5 besluit opt-in -> bevestiging"
STEPS = (STEP_DEFECT, STEP_GOOD, STEP_CORRECTION, STEP_MIRROR, STEP_BESLUIT)


def findings_by_code(report: dict[str, Any]) -> dict[tuple[str, str | None], int]:
    return {(f["code"], f["column"]): f["count"] for f in report.get("findings", [])}


def _describe(counts: dict[tuple[str, str | None], int]) -> str:
    return ", ".join(f"{code}{':' + col if col else ''}={n}" for (code, col), n in
                     sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))) or "geen"


def make_correction(accepted: Path, extra: Path, dest: Path,
                    key_of: Callable[[bytes], tuple[str, ...]] | None = None) -> tuple[int, int]:
    """A correctielevering: `accepted` with its last REMOVED data lines left out and the first
    ADDED data lines of `extra` (same layout) added whose key (`key_of`) the kept lines do not
    have. Returns (removed, added)."""
    lines = accepted.read_bytes().splitlines(keepends=True)
    extra_lines = [line for line in extra.read_bytes().splitlines(keepends=True)[1:]
                   if line.strip()]
    body = [line for line in lines[1:] if line.strip()]
    kept = body[:-REMOVED]
    if key_of is not None:
        taken = {key_of(line) for line in body}
        extra_lines = [line for line in extra_lines if key_of(line) not in taken]
    added = extra_lines[:ADDED]
    dest.write_bytes(b"".join([lines[0], *kept, *added]))
    return REMOVED, len(added)


def key_reader(definition: Definition, dataset: str, header: bytes) -> Callable[
        [bytes], tuple[str, ...]]:
    """The primary key of a data line of a file with this header, written in the dataset's
    dialect (as the generator writes it: no quoting needed)."""
    spec = definition.dataset(dataset)
    delimiter = spec.dialect.delimiter.encode()
    names = [n.strip().lower() for n in header.decode("utf-8-sig").strip().split(
        spec.dialect.delimiter)]
    where = [names.index(c) for c in spec.primary_key]
    return lambda line: tuple(line.rstrip(b"\r\n").split(delimiter)[i].decode() for i in where)


class Ketentest:
    """Runs the steps with one gemeente certificate; `work_dir` holds the files and reports."""

    def __init__(self, client: HubApi, work_dir: Path, *, definition: Definition, period: str,
                 timeout: float = 120.0, seed: int = 11,
                 on_step: Callable[[StepResult], None] | None = None) -> None:
        from ggk.testdata.defects import Catalogue

        self.client = client
        self.work_dir = work_dir
        self.definition = definition
        self.statistic = definition.statistic
        self.period = period
        self.dataset = definition.required_dataset
        catalogue = Catalogue.of(definition, self.dataset)
        self.defects = {code: n for code, n in DEFECT_COUNTS.items() if code in catalogue.columns}
        self.timeout = timeout
        self.seed = seed
        self.on_step = on_step
        self.inbox = Inbox(client, work_dir / "rapporten")
        self.report = KetentestReport()
        self.gemeente = ""
        self.cbs_oin = ""
        self._accepted_ids: list[str] = []

    def run(self) -> KetentestReport:
        try:
            self.gemeente = own_gemeentecode(self.client)
            self.cbs_oin = self.client.find_party(role="cbs").oin
        except Exception as e:  # noqa: BLE001 - reported as the failed first step
            self._record(StepResult(STEP_DEFECT, "mislukt", f"hub niet bruikbaar: {e}"))
            self._skip_rest("de hub is niet bereikbaar of kent dit certificaat niet")
            return self.report
        failed = False
        for name, step in ((STEP_DEFECT, self.step_defects), (STEP_GOOD, self.step_good),
                           (STEP_CORRECTION, self.step_correction), (STEP_MIRROR, self.step_mirror),
                           (STEP_BESLUIT, self.step_besluit)):
            if failed:
                self._record(StepResult(name, "overgeslagen", "een eerdere stap is mislukt"))
                continue
            started = time.monotonic()
            try:
                detail = step()
                result = StepResult(name, "geslaagd", detail)
            except StepSkipped as e:
                result = StepResult(name, "overgeslagen", str(e))
            except (StepFailed, ClientError) as e:
                result = StepResult(name, "mislukt", str(e))
                failed = True
            result.seconds = time.monotonic() - started
            self._record(result)
        return self.report

    def _record(self, result: StepResult) -> None:
        self.report.steps.append(result)
        if self.on_step is not None:
            self.on_step(result)

    def _skip_rest(self, reason: str) -> None:
        for name in STEPS[len(self.report.steps):]:
            self._record(StepResult(name, "overgeslagen", reason))

    # -- helpers -------------------------------------------------------------------------------

    def _generate(self, errors: dict[str, int] | None, seed: int, name: str) -> Any:
        from ggk.testdata import generate
        from ggk.testdata.generator import row_limit

        rows = min(ROWS, row_limit(self.definition, self.dataset) or ROWS)
        return generate(self.definition, self.dataset, self.gemeente, self.period, rows=rows,
                        errors=errors, seed=seed, out=self.work_dir / "bestanden" / name)

    def _deliver(self, path: Path) -> tuple[str, dict[str, Any]]:
        sent = submit_file(self.client, path, statistic=self.statistic, period=self.period,
                           dataset=self.dataset, gemeente=self.gemeente, cbs_oin=self.cbs_oin,
                           test=True)
        if sent.state == "refused":
            raise StepFailed(f"de hub weigerde de aanlevering: {sent.refusal_reason}")
        reply = self.inbox.wait_for(sent.id, ANSWERS[Kind.AANLEVERING], self.timeout)
        if reply is None:
            raise StepFailed(f"geen technisch controlerapport binnen {self.timeout:.0f} s "
                             "(draait het station van CBS?)")
        if reply.kind is Kind.WEIGERING:
            raise StepFailed(f"CBS weigerde de aanlevering: {reply.describe()}")
        report = reply.report_json()
        if report is None:
            raise StepFailed("het controlerapport heeft geen report.json")
        return sent.id, report

    # -- steps ---------------------------------------------------------------------------------

    def step_defects(self) -> str:
        generated = self._generate(self.defects, self.seed, "met-fouten")
        expected = dict(generated.key.counts())
        _, report = self._deliver(generated.path)
        got = findings_by_code(report)
        if report["verdict"] != "afgekeurd":
            raise StepFailed(f"verwacht afgekeurd, kreeg {report['verdict']}")
        if got != expected:
            raise StepFailed(f"bevindingen wijken af: verwacht {_describe(expected)}, "
                             f"kreeg {_describe(got)}")
        return f"afgekeurd met precies {_describe(expected)}"

    def step_good(self) -> str:
        self.good = self._generate(None, self.seed, "goed")
        message_id, report = self._deliver(self.good.path)
        if report["verdict"] != "goedgekeurd":
            raise StepFailed(f"verwacht goedgekeurd, kreeg {report['verdict']} "
                             f"({_describe(findings_by_code(report))})")
        self._accepted_ids.append(message_id)
        rows, version = report["summary"]["rows"], report.get("versie", "?")
        return f"goedgekeurd, {rows} regels, versie {version}"

    def step_correction(self) -> str:
        extra = self._generate(None, self.seed + 1000, "extra")
        path = self.work_dir / "bestanden" / "correctie.csv"
        header = self.good.path.read_bytes().splitlines()[0]
        removed, added = make_correction(self.good.path, extra.path, path,
                                         key_reader(self.definition, self.dataset, header))
        message_id, report = self._deliver(path)
        if report["verdict"] != "goedgekeurd":
            raise StepFailed(f"correctie niet goedgekeurd: {_describe(findings_by_code(report))}")
        self._accepted_ids.append(message_id)
        changes = report.get("wijzigingen")
        if not changes:
            raise StepFailed("het rapport van de correctie heeft geen wijzigingen-overzicht")
        if changes.get("verwijderd") != removed or changes.get("toegevoegd") != added:
            raise StepFailed(f"wijzigingen kloppen niet: verwacht {removed} verwijderd en {added} "
                             f"toegevoegd, kreeg {changes}")
        return ", ".join(f"{k} {v}" for k, v in changes.items())

    def step_mirror(self) -> str:
        deadline = time.monotonic() + self.timeout
        while True:
            for message_id in reversed(self._accepted_ids):
                found = self.inbox.replies_to(message_id, (Kind.SPIEGELRAPPORT,))
                if found:
                    names = sorted(p.name for p in found[0].files)
                    if not names:
                        raise StepFailed("spiegelrapport zonder bestanden")
                    return f"ontvangen: {', '.join(names)}"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StepSkipped(f"geen spiegelrapport binnen {self.timeout:.0f} s: dit station "
                                  "maakt (nog) geen spiegelrapporten")
            self.inbox.collect(wait=min(remaining, 2.0))

    def step_besluit(self) -> str:
        sent = send_besluit(self.client, statistic=self.statistic, period=self.period,
                            besluit="opt-in", gemeente=self.gemeente, toelichting="ketentest",
                            cbs_oin=self.cbs_oin, test=True)
        reply = self.inbox.wait_for(sent.id, ANSWERS[Kind.BESLUIT], self.timeout)
        if reply is None:
            raise StepFailed(f"geen bevestiging binnen {self.timeout:.0f} s")
        if reply.kind is Kind.WEIGERING:
            raise StepFailed(f"besluit geweigerd: {reply.describe()}")
        return reply.describe()
