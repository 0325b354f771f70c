"""The evaluation of one period: figures from `EvaluationRecords`, disclosure-controlled, rendered
to JSON (the source of every format), HTML and PDF (docs/evaluation.md).

Disclosure (this report leaves CBS; rules of `ggk.mirror.disclosure`): no figure of a single
municipality. Figures are over all municipalities that delivered, or over a size-class group of at
least MIN_GROUP of them (smaller groups: SUPPRESSED); counts of records in the data (findings)
are rounded with `rounded_count`. Counts of files, messages and municipalities are process
figures about the channel, not about persons, and are shown as they are.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from ggk.definitions import Definition
from ggk.evaluation.interfaces import DeliveryFact, EvaluationError, EvaluationRecords
from ggk.localtime import SHOWN_ZONE, local, shown
from ggk.mirror.disclosure import MIN_GROUP, SUPPRESSED, rounded_count
from ggk.mirror.render import RenderedReport

JSON_FORMAT = "ggk-evaluatie/1"
APPROXIMATIONS = (
    "Het moment van aanleveren is het moment waarop de hub het bericht van de gemeente aannam, "
    "omgerekend naar de klok van het station; leveringen van voor deze meting hebben het niet en "
    "tellen niet mee in de doorlooptijden.",
    "Het technisch controlerapport telt als verstuurd op het moment dat het station de levering "
    "afsloot (rapport verstuurd, bericht bevestigd).",
    "Onder een gesimuleerde klok (de pilot-demo) staat de klok van het station stil terwijl het "
    "werkt: de doorlooptijden tellen dan alleen de echte tijd tot het oordeel van het station en "
    "zijn te kort; met de gewone klok zijn ze exact.",
    "Beschikbaarheid van het kanaal is gemeten vanuit het station: een storing loopt van de "
    "eerste mislukte tot de eerste gelukte ophaalronde bij de hub. Storingen korter dan één "
    "ophaalronde, en storingen die alleen gemeenten treffen, ziet het station niet.",
    "Op tijd: de eerste aanlevering van de verplichte dataset is verstuurd op of voor de "
    "sluitingsdatum van de aanleverperiode (datum in Europe/Amsterdam); 'met uitstel' rekent "
    "met de door CBS verleende uitsteldatum.",
)


class EvaluationReport(RenderedReport):
    """`data` is the JSON document (disclosure-controlled); html/pdf are rendered from it."""

    def render_html(self) -> str:
        from ggk.evaluation.render import render_html

        return render_html(self.data)

    def write(self, directory: Path) -> list[Path]:
        """Write evaluatie-<statistic>-<period>.json/.html/.pdf; returns their paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        stem = f"evaluatie-{self.data['statistic']}-{self.data['period']}"
        json_path, html_path, pdf_path = (directory / f"{stem}.{ext}"
                                          for ext in ("json", "html", "pdf"))
        json_path.write_text(self.json(), "utf-8")
        html_path.write_text(self.html(), "utf-8")
        pdf_path.write_bytes(self.pdf())
        return [json_path, html_path, pdf_path]


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _seconds(values: list[float]) -> dict[str, Any]:
    """Median and maximum of durations in seconds, with how many were measured."""
    if not values:
        return {"gemeten": 0, "mediaan_seconden": None, "maximum_seconden": None}
    return {"gemeten": len(values), "mediaan_seconden": round(statistics.median(values), 1),
            "maximum_seconden": round(max(values), 1)}


def _local_date(moment: dt.datetime) -> dt.date:
    return local(moment).date()


def _first_by_gemeente(deliveries: list[DeliveryFact]) -> dict[str, DeliveryFact]:
    first: dict[str, DeliveryFact] = {}
    for d in sorted(deliveries, key=lambda d: d.version):
        first.setdefault(d.gemeente, d)
    return first


def _groups(gemeenten: set[str], passed: set[str]) -> list[dict[str, Any]]:
    """Per size-class group: municipalities that delivered and the first-time-right share, only
    for groups of at least MIN_GROUP municipalities (otherwise SUPPRESSED)."""
    from ggk.refdata import register

    reg = register()
    labels = {s.klasse: s.label for s in reg.size_classes()}
    by_class: dict[int, set[str]] = {}
    for code in gemeenten:
        by_class.setdefault(reg.get(code).grootteklasse, set()).add(code)
    rows = []
    for klasse in sorted(labels):
        members = by_class.get(klasse, set())
        if not members:
            continue
        shown_ok = len(members) >= MIN_GROUP
        rows.append({
            "grootteklasse": klasse, "label": labels[klasse],
            "gemeenten": len(members) if shown_ok else SUPPRESSED,
            "eerste_keer_goed_procent": _share(len(members & passed), len(members))
            if shown_ok else SUPPRESSED,
        })
    return rows


def _weekly(deliveries: list[DeliveryFact]) -> list[dict[str, Any]]:
    """Deliveries per week (Monday, Europe/Amsterdam) by verdict, for the chart."""
    counts: Counter[tuple[str, str]] = Counter()
    for d in deliveries:
        day = _local_date(d.sent_at or d.received_at)
        monday = day - dt.timedelta(days=day.weekday())
        counts[(monday.isoformat(), "goedgekeurd" if d.accepted else "afgekeurd")] += 1
    return [{"week": week, "oordeel": verdict, "aantal": n}
            for (week, verdict), n in sorted(counts.items())]


def build_evaluation(records: EvaluationRecords, definition: Definition, period: str, *,
                     now: dt.datetime, gemeenten_total: int = 342) -> EvaluationReport:
    """The evaluation of `period` as of `now` (figures recomputed from the records each time)."""
    from ggk.definitions import UnknownPeriod

    statistic = definition.statistic
    try:
        calendar = definition.calendar(period)
    except (UnknownPeriod, KeyError) as e:
        raise EvaluationError(f"no calendar for {statistic} {period}: {e}") from None
    required = definition.required_dataset
    deliveries = records.deliveries(statistic, period)
    of_required = [d for d in deliveries if d.dataset == required]
    first = _first_by_gemeente(of_required)
    participants = set(first)
    passed_first = {g for g, d in first.items() if d.accepted}
    versions = Counter(d.gemeente for d in of_required)

    # rejections by finding code: rejected deliveries having it, and findings (rounded)
    rejected = [d for d in deliveries if not d.accepted]
    files_with: Counter[str] = Counter()
    findings: Counter[str] = Counter()
    for d in rejected:
        for code, count in d.finding_codes.items():
            files_with[code] += 1
            findings[code] += count
    by_code = [{"code": code, "aanleveringen": n, "bevindingen": rounded_count(findings[code])}
               for code, n in sorted(files_with.items(), key=lambda kv: (-kv[1], kv[0]))]

    rounds = Counter(min(versions[g] - 1, 2) for g in participants)
    to_report = [(d.technical_report_at - d.sent_at).total_seconds() for d in deliveries
                 if d.sent_at and d.technical_report_at]
    to_mirror = [(d.mirror_report_at - d.sent_at).total_seconds() for d in of_required
                 if d.sent_at and d.mirror_report_at]

    extensions = records.extensions(statistic, period)
    closes = calendar.events["aanlevering_sluit"]
    on_time = {g for g, d in first.items() if _local_date(d.sent_at or d.received_at) <= closes}
    on_time_ext = {g for g, d in first.items()
                   if _local_date(d.sent_at or d.received_at) <= max(closes,
                                                                      extensions.get(g, closes))}

    final = records.final_states(statistic, period, required)
    besluiten = records.decisions(statistic, period)
    accepted_gemeenten = {d.gemeente for d in of_required if d.accepted}
    refusals = records.refusals(statistic, period)

    start = dt.datetime.combine(calendar.events["aanlevering_open"], dt.time(), SHOWN_ZONE)
    last_day = max(calendar.events.values())
    end = min(now, dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), SHOWN_ZONE))
    incidents = records.incidents(start, end) if end > start else []
    outage = sum(((min(i.ended_at or end, end) - max(i.started_at, start)).total_seconds()
                  for i in incidents), 0.0)
    window = max((end - start).total_seconds(), 0.0)

    data: dict[str, Any] = {
        "report": "evaluatie", "format": JSON_FORMAT, "statistic": statistic,
        "title": definition.title, "edition": definition.edition, "period": period,
        "gemaakt": now.astimezone(dt.UTC).replace(microsecond=0).isoformat(),
        "kalender": {name: day.isoformat() for name, day in sorted(calendar.events.items(),
                                                                    key=lambda kv: kv[1])},
        "gemeenten": {"totaal": gemeenten_total, "met_aanlevering": len(participants),
                      "per_grootteklasse": _groups(participants, passed_first)},
        "aanleveringen": {
            "totaal": len(deliveries), "verplichte_dataset": required,
            "verplicht": len(of_required), "overig": len(deliveries) - len(of_required),
            "goedgekeurd": sum(d.accepted for d in deliveries),
            "afgekeurd": len(rejected),
            "per_week": _weekly(deliveries),
        },
        "eerste_keer_goed": {"gemeenten": len(participants), "eerste_keer_goed": len(passed_first),
                             "procent": _share(len(passed_first), len(participants))},
        "afkeuringen_per_code": by_code,
        "correctierondes": {
            "geen": rounds.get(0, 0), "een": rounds.get(1, 0), "twee_of_meer": rounds.get(2, 0),
            "gemiddeld": round(statistics.mean(versions[g] - 1 for g in participants), 2)
            if participants else None,
        },
        "doorlooptijd": {"technisch_controlerapport": _seconds(to_report),
                         "spiegelrapport": _seconds(to_mirror)},
        "op_tijd": {
            "sluitingsdatum": closes.isoformat(), "gemeenten": len(participants),
            "op_tijd": len(on_time), "procent": _share(len(on_time), len(participants)),
            "met_uitstel": len(on_time_ext),
            "procent_met_uitstel": _share(len(on_time_ext), len(participants)),
            "uitstel_verleend": len(extensions),
        },
        "besluiten": {
            "opt_in": sum(1 for s in final.values() if s == "opt-in"),
            "ingetrokken": sum(1 for s in final.values() if s == "ingetrokken"),
            "zonder_besluit": len(accepted_gemeenten - {g for g, s in final.items()
                                                        if s in ("opt-in", "ingetrokken")}),
            "berichten": dict(sorted(Counter(b.besluit for b in besluiten).items())),
        },
        "weigeringen": dict(sorted(Counter(r.code for r in refusals).items())),
        "kanaal": {
            "venster_van": start.astimezone(dt.UTC).isoformat(),
            "venster_tot": end.astimezone(dt.UTC).isoformat(),
            "storingen": len(incidents), "storingsduur_seconden": round(outage, 1),
            "beschikbaarheid_procent": round(100 * (1 - outage / window), 3) if window else None,
            "incidenten": [{"van": i.started_at.astimezone(dt.UTC).isoformat(),
                            "tot": i.ended_at.astimezone(dt.UTC).isoformat()
                            if i.ended_at else None, "oorzaak": i.detail} for i in incidents],
        },
        "benaderingen": list(APPROXIMATIONS),
        "geheimhouding": (
            f"Geen cijfers van afzonderlijke gemeenten. Uitsplitsingen alleen over groepen van "
            f"ten minste {MIN_GROUP} gemeenten (anders '{SUPPRESSED}'); aantallen bevindingen "
            "zijn afgerond op vijftallen, kleiner dan 10 wordt '.'."),
    }
    data["gemaakt_lokaal"] = shown(now, zone=True)
    return EvaluationReport(data)
