"""A deliberately plain, line-by-line reading of spec sections 3, 4.2 and 6.

Used only to check the generator independently of the real validator: which data lines carry a
finding, and which (code, column)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from ggk.definitions import Definition


def elfproef(bsn: str) -> bool:
    d = [int(c) for c in bsn]
    return (
        bsn != "000000000"
        and (sum(w * x for w, x in zip(range(9, 1, -1), d[:8], strict=True)) - d[8]) % 11 == 0
    )


def _number(text: str) -> float | None:
    if not re.fullmatch(r"-?\d+(,\d+)?", text):
        return None
    return float(text.replace(",", "."))


def _date(text: str) -> dt.date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def findings_per_line(
    data: bytes,
    definition: Definition,
    dataset: str,
    gemeente: str,
    period: str,
    basis_keys: set[tuple[str, str, str]] | None = None,
) -> dict[int, list[tuple[str, str | None]]]:
    """{physical line: [(code, column), ...]} for the data lines of a readable file."""
    spec = definition.dataset(dataset)
    cal = definition.calendar(period)
    text = data.decode("utf-8-sig")
    physical = text.splitlines()
    header = [h.strip().lower() for h in next(csv.reader([physical[0]], delimiter=";"))]
    assert sorted(header) == sorted(spec.field_names), header
    out: dict[int, list[tuple[str, str | None]]] = {}
    seen: set[tuple[str, str, str]] = set()
    for number, raw in enumerate(physical[1:], start=2):
        if raw == "":
            continue
        cells = next(csv.reader(io.StringIO(raw), delimiter=";", quotechar='"'))
        if len(cells) != len(header):
            out[number] = [("aantal-velden", None)]
            continue
        # unquoted values are trimmed; the generator never quotes a value with spaces
        row = {h: (c.strip() or None) for h, c in zip(header, cells, strict=True)}
        found: list[tuple[str, str | None]] = []
        bad: set[str] = set()
        values: dict[str, object] = {}
        for f in spec.fields:
            v = row[f.name]
            code = None
            if v is None:
                code = "verplicht" if f.required else None
            elif f.type == "date" and (values.setdefault(f.name, _date(v)) is None):
                code = "type"
            elif f.type == "number" and (values.setdefault(f.name, _number(v)) is None):
                code = "type"
            elif f.pattern and not re.fullmatch(f.pattern, v):
                code = "patroon"
            elif f.enum and v not in f.enum:
                code = "codelijst"
            elif f.minimum is not None and values[f.name] < f.minimum:  # type: ignore[operator]
                code = "minimum"
            elif f.elfproef and not elfproef(v):
                code = "elfproef"
            if code:
                found.append((code, f.name))
                bad.add(f.name)
        if "gemeentecode" not in bad and row["gemeentecode"] != gemeente:
            found.append(("gemeentecode-afzender", "gemeentecode"))
        begin, end = values.get("begindatum"), values.get("einddatum")

        def ok(*names: str, bad: set[str] = bad) -> bool:
            return not (bad & set(names))

        if dataset == "basis":
            if ok("begindatum", "einddatum") and end and begin and end < begin:
                found.append(("einddatum-voor-begindatum", "einddatum"))
            if ok("begindatum", "einddatum") and (
                (begin and begin > cal.end) or (end and end < cal.start)
            ):
                found.append(("buiten-periode", None))
            if ok("intensiteit", "eenheid") and row["intensiteit"] and not row["eenheid"]:
                found.append(("eenheid-ontbreekt", "eenheid"))
            if (
                ok("einddatum", "reden_beeindiging")
                and end
                and cal.start <= end <= cal.end
                and not row["reden_beeindiging"]
            ):
                found.append(("reden-ontbreekt", "reden_beeindiging"))
        key = (row["bsn"], row["productcategorie"], row["begindatum"])
        if ok("bsn", "productcategorie", "begindatum"):
            if dataset == "basis":
                if key in seen:
                    found.append(("dubbel-record", None))
                seen.add(key)  # type: ignore[arg-type]
            elif basis_keys is not None and key not in basis_keys:
                found.append(("geen-basisrecord", None))
        if found:
            out[number] = found
    return out


def keys_of(data: bytes) -> set[tuple[str, str, str]]:
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = [h.strip().lower() for h in rows[0]]
    idx = [header.index(c) for c in ("bsn", "productcategorie", "begindatum")]
    return {tuple(r[i].strip() for i in idx) for r in rows[1:] if len(r) == len(header)}  # type: ignore[misc]
