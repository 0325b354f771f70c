"""Load and check a definition folder; refuse a broken one with a message naming file and problem.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from pathlib import Path
from typing import Any

from ggk.definitions.interfaces import (
    DatasetSpec,
    Definition,
    DefinitionError,
    Dialect,
    FieldSpec,
    ForeignKey,
    InvalidPeriod,
    PeriodCalendar,
    Rule,
)
from ggk.definitions.periods import EXAMPLES, KINDS, Period

FIELD_TYPES = {"string", "date", "number", "integer"}
SEVERITIES = {"error", "warning"}
RELATIVE_DATE_RE = re.compile(r"^Y(?P<offset>[+-]\d+)?-(?P<month>\d{2})-(?P<day>\d{2})$")
PERIOD_PLACEHOLDERS = (":period_start", ":period_end")


def _fail(where: Path | str, problem: str) -> DefinitionError:
    return DefinitionError(f"{where}: {problem}")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(path, "file is missing") from None
    except json.JSONDecodeError as e:
        raise _fail(path, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(path, "file is missing") from None
    except tomllib.TOMLDecodeError as e:
        raise _fail(path, f"invalid TOML: {e}") from None


def _require(obj: Any, key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(obj, dict):
        raise _fail(where, f"must be an object (table) with key {key!r}, not {type(obj).__name__}")
    if key not in obj:
        raise _fail(where, f"missing key {key!r}")
    value = obj[key]
    if not isinstance(value, kind):
        raise _fail(where, f"key {key!r} must be {getattr(kind, '__name__', kind)}")
    return value


def _check_polars_regex(pattern: str, where: str) -> None:
    """The validator matches with Polars (Rust regex): no look-around, no backreferences."""
    import polars as pl

    try:
        pl.select(pl.lit("").str.contains(f"^(?:{pattern})$"))
    except pl.exceptions.PolarsError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise _fail(where, f"pattern {pattern!r} is not supported by the validator's regex engine "
                           f"(no look-around or backreferences): {first}") from None


def _field(raw: dict[str, Any], where: str) -> FieldSpec:
    name = _require(raw, "name", f"{where} field", str)
    where = f"{where} field {name!r}"
    ftype = _require(raw, "type", where, str)
    if ftype not in FIELD_TYPES:
        raise _fail(where, f"type {ftype!r} is not one of {sorted(FIELD_TYPES)}")
    c = raw.get("constraints", {}) or {}
    pattern = c.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as e:
            raise _fail(where, f"pattern {pattern!r} is not a valid regular expression: {e}"
                        ) from None
        _check_polars_regex(pattern, where)
    enum = c.get("enum")
    if enum is not None and (
        not isinstance(enum, list) or not all(isinstance(v, str) for v in enum)
    ):
        raise _fail(where, "constraints.enum must be a list of strings")
    minimum = c.get("minimum")
    if minimum is not None and (ftype not in {"number", "integer"} or isinstance(minimum, bool)
                                or not isinstance(minimum, int | float)):
        raise _fail(where, "constraints.minimum needs a number field and a numeric value")
    date_format = raw.get("format", "%Y-%m-%d")
    if ftype == "date" and (not isinstance(date_format, str) or "%" not in date_format):
        raise _fail(where, f"date format {date_format!r} must be a strftime pattern like %Y-%m-%d")
    decimal_char = raw.get("decimalChar", ".")
    if not isinstance(decimal_char, str) or len(decimal_char) != 1:
        raise _fail(where, "decimalChar must be one character")
    return FieldSpec(
        name=name,
        type=ftype,  # type: ignore[arg-type]
        title=raw.get("title", name),
        description=raw.get("description", ""),
        required=bool(c.get("required", False)),
        pattern=pattern,
        enum=tuple(enum) if enum is not None else None,
        labels=raw.get("ggk:labels"),
        minimum=float(minimum) if minimum is not None else None,
        date_format=date_format if ftype == "date" else "%Y-%m-%d",
        decimal_char=decimal_char,
        is_sender=raw.get("ggk:role") == "afzender",
        elfproef=bool(raw.get("ggk:elfproef", False)),
        personal=bool(raw.get("ggk:personal", False)),
    )


def _dataset(raw: dict[str, Any], where: str) -> DatasetSpec:
    name = _require(raw, "name", where, str)
    where = f"{where} resource {name!r}"
    schema = _require(raw, "schema", where, dict)
    fields_raw = _require(schema, "fields", f"{where} schema", list)
    if not fields_raw:
        raise _fail(where, "schema has no fields")
    fields = tuple(_field(f, where) for f in fields_raw)
    names = [f.name for f in fields]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _fail(where, f"field names occur twice: {', '.join(dupes)}")
    pk = schema.get("primaryKey", [])
    pk = [pk] if isinstance(pk, str) else list(pk)
    for n in pk:
        if n not in names:
            raise _fail(where, f"primaryKey names unknown field {n!r}")
    fks = []
    fks_raw = schema.get("foreignKeys", [])
    if not isinstance(fks_raw, list):
        raise _fail(where, "schema.foreignKeys must be a list")
    for fk in fks_raw:
        fk_fields = _require(fk, "fields", f"{where} foreignKey", list)
        ref = _require(fk, "reference", f"{where} foreignKey", dict)
        ref_resource = _require(ref, "resource", f"{where} foreignKey reference", str)
        ref_fields = _require(ref, "fields", f"{where} foreignKey reference", list)
        if len(ref_fields) != len(fk_fields):
            raise _fail(where, "foreignKey fields and reference fields differ in number")
        fks.append(ForeignKey(tuple(fk_fields), ref_resource, tuple(ref_fields)))
        for n in fk_fields:
            if n not in names:
                raise _fail(where, f"foreignKey names unknown field {n!r}")
    d = raw.get("dialect", {}) or {}
    dialect = Dialect(delimiter=d.get("delimiter", ","), quote_char=d.get("quoteChar", '"'))
    if len(dialect.delimiter) != 1:
        raise _fail(where, "dialect.delimiter must be one character")
    return DatasetSpec(
        name=name,
        title=raw.get("title", name),
        description=raw.get("description", ""),
        required=bool(raw.get("ggk:required", False)),
        dialect=dialect,
        fields=fields,
        primary_key=tuple(pk),
        foreign_keys=tuple(fks),
    )


def _rules(path: Path, datasets: dict[str, DatasetSpec]) -> tuple[Rule, ...]:
    raw = _read_toml(path).get("rule", [])
    if not isinstance(raw, list):
        raise _fail(path, "rules must be written as [[rule]] tables")
    rules = []
    seen: set[tuple[str, str]] = set()
    for i, r in enumerate(raw, start=1):
        where = f"{path} rule #{i}"
        code = _require(r, "code", where, str)
        where = f"{path} rule {code!r}"
        ds = _require(r, "dataset", where, str)
        if ds not in datasets:
            raise _fail(where, f"dataset {ds!r} is not a resource of the datapackage")
        sev = _require(r, "severity", where, str)
        if sev not in SEVERITIES:
            raise _fail(where, f"severity {sev!r} must be one of {sorted(SEVERITIES)}")
        column = r.get("column")
        known = set(datasets[ds].field_names)
        requires = tuple(_require(r, "requires", where, list))
        for n in [*requires, *([column] if column else [])]:
            if n not in known:
                raise _fail(where, f"names unknown field {n!r} of dataset {ds!r}")
        violation = _require(r, "violation", where, str)
        _check_sql(violation, requires, where, datasets[ds])
        if (code, ds) in seen:
            raise _fail(where, "code occurs twice for the same dataset")
        seen.add((code, ds))
        rules.append(
            Rule(
                code=code,
                dataset=ds,
                severity=sev,  # type: ignore[arg-type]
                column=column,
                requires=requires,
                violation=violation,
                title=_require(r, "title", where, str),
                message=_require(r, "message", where, str),
                description=r.get("description", ""),
                fix=_require(r, "fix", where, str),
            )
        )
    return tuple(rules)


def substitute_period(sql: str, start: dt.date, end: dt.date) -> str:
    """Replace the period placeholders of a rule expression by SQL date literals."""
    return sql.replace(":period_start", f"CAST('{start.isoformat()}' AS DATE)").replace(
        ":period_end", f"CAST('{end.isoformat()}' AS DATE)"
    )


POLARS_TYPES = {"string": "String", "date": "Date", "number": "Float64", "integer": "Int64"}


def _check_sql(expr: str, columns: tuple[str, ...], where: str, dataset: DatasetSpec) -> None:
    import polars as pl

    for token in re.findall(r":[a-z_]+", expr):
        if token not in PERIOD_PLACEHOLDERS:
            allowed = ", ".join(PERIOD_PLACEHOLDERS)
            raise _fail(where, f"unknown placeholder {token}; allowed: {allowed}")
    try:
        parsed = pl.sql_expr(substitute_period(expr, dt.date(2000, 1, 1), dt.date(2000, 6, 30)))
    except Exception as e:  # polars raises several error types for bad SQL
        raise _fail(where, f"violation is not a valid SQL expression: {e}") from None
    # Evaluate on an empty frame typed like the dataset: catches type errors (a date compared with
    # a number, arithmetic on strings) and a result that is not a boolean, at load time.
    empty = pl.DataFrame(schema={f.name: getattr(pl, POLARS_TYPES[f.type]) for f in dataset.fields})
    try:
        dtype = empty.lazy().select(parsed.alias("violation")).collect_schema()["violation"]
    except Exception as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise _fail(where, f"violation does not fit the field types: {first_line}") from None
    if dtype not in (pl.Boolean, pl.Null):
        raise _fail(where, f"violation must be a boolean expression, not {dtype}")
    referenced = set(re.findall(r"\b[a-z_][a-z0-9_]*\b", re.sub(r"'[^']*'", "", expr.lower())))
    sql_words = {"and", "or", "not", "is", "null", "in", "between", "like", "cast", "as", "date",
                 "true", "false", "case", "when", "then", "else", "end", "period_start",
                 "period_end", "coalesce", "length", "upper", "lower", "trim", "abs"}
    unknown = referenced - sql_words - set(columns)
    if unknown:
        raise _fail(where, f"violation reads {', '.join(sorted(unknown))} not listed in requires")


def _relative_date(text: str, year: int, where: str) -> dt.date:
    m = RELATIVE_DATE_RE.match(text)
    if not m:
        raise _fail(where, f"date {text!r} must look like Y-08-15 or Y+1-02-15")
    try:
        return dt.date(year + int(m["offset"] or 0), int(m["month"]), int(m["day"]))
    except ValueError as e:
        raise _fail(where, f"date {text!r}: {e}") from None


def _calendars(path: Path) -> tuple[tuple[str, ...], str, str, dict[str, PeriodCalendar]]:
    """Periods of one kind (year, half-year, quarter or month) and the dated events of each.

    An event names its date per part of the year (`Y`, `H1`, `Q3`, `M05`) relative to the
    period's year, or for every period at once with `after_end` (days after the period's end).
    A legacy `[half.H1]` section (start/end) must agree with the half-year it describes.
    """
    raw = _read_toml(path)
    periods = tuple(_require(raw, "periods", str(path), list))
    events = _require(raw, "event", str(path), list)
    if not periods:
        raise _fail(path, "'periods' lists no period")
    parsed = []
    for text in periods:
        try:
            parsed.append(Period.parse(text))
        except (InvalidPeriod, AttributeError) as e:
            raise _fail(path, str(e)) from None
    kind = raw.get("kind", parsed[0].kind)
    if kind not in KINDS:
        raise _fail(path, f"kind {kind!r} is not one of {', '.join(KINDS)}")
    for p in parsed:
        if p.kind != kind:
            raise _fail(path, f"period {str(p)!r} is not a {kind} period (like {EXAMPLES[kind]})")
    halves = raw.get("half", {})
    calendars = {}
    for period in parsed:
        year = period.year
        if halves:
            if period.part not in halves:
                raise _fail(path, f"no [half.{period.part}] section for period {period}")
            where = f"{path} [half.{period.part}]"
            bounds = tuple(_relative_date(_require(halves[period.part], key, where, str), year,
                                          where) for key in ("start", "end"))
            if bounds != (period.start, period.end):
                raise _fail(where, f"start/end do not match period {period} "
                                   f"({period.start} to {period.end})")
        dates, titles = {}, {}
        for ev in events:
            name = _require(ev, "name", f"{path} event", str)
            w = f"{path} event {name!r}"
            if period.part in ev:
                dates[name] = _relative_date(_require(ev, period.part, w, str), year, w)
            elif "after_end" in ev:
                days = _require(ev, "after_end", w, int)
                dates[name] = period.end + dt.timedelta(days=days)
            else:
                raise _fail(w, f"missing key {period.part!r} (or 'after_end') for {period}")
            titles[name] = ev.get("title", name)
        ordered = sorted(dates.values())
        if list(dates.values()) != ordered:
            raise _fail(path, f"events of {period} are not in chronological order")
        calendars[str(period)] = PeriodCalendar(str(period), period.start, period.end, dates,
                                                titles, kind)
    return periods, kind, raw.get("timezone", "Europe/Amsterdam"), calendars


def load_definition(root: Path) -> Definition:
    """Load the definition in folder `root`; raises DefinitionError on any inconsistency."""
    root = Path(root)
    pkg_path = root / "datapackage.json"
    pkg = _read_json(pkg_path)
    where = str(pkg_path)
    statistic = _require(pkg, "ggk:statistic", where, str)
    edition = _require(pkg, "ggk:edition", where, str)
    resources = _require(pkg, "resources", where, list)
    datasets = tuple(_dataset(r, where) for r in resources)
    by_name = {d.name: d for d in datasets}
    if len(by_name) != len(datasets):
        raise _fail(where, "two resources have the same name")
    for d in datasets:
        for fk in d.foreign_keys:
            if fk.resource not in by_name:
                raise _fail(
                    where, f"resource {d.name!r}: foreignKey to unknown resource {fk.resource!r}"
                )
            for n in fk.reference_fields:
                if n not in by_name[fk.resource].field_names:
                    raise _fail(where, f"resource {d.name!r}: foreignKey to unknown field {n!r}")
    rules = _rules(root / pkg.get("ggk:rules", "rules.toml"), by_name)
    periods, kind, tz, calendars = _calendars(root / pkg.get("ggk:calendar", "calendar.toml"))
    return Definition(
        statistic=statistic,
        edition=edition,
        title=pkg.get("title", statistic),
        description=pkg.get("description", ""),
        root=root,
        datasets=datasets,
        rules=rules,
        periods=periods,
        timezone=tz,
        calendars=calendars,
        raw=pkg,
        period_kind=kind,
    )
