"""Read delivered bytes into records with their physical line numbers, vectorised on Polars.

Handles what spec section 3 allows: UTF-8 with or without BOM, LF or CRLF, the header in any order
(names trimmed, case-insensitive), quoted fields (also with the delimiter or line ends inside),
blank lines (ignored, but counted in the physical line numbering). Anything else becomes a
file-level finding; no input raises. A clean file (the common case) is read in one native
`read_csv` instead (_read_plain), only when that provably gives the same records.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import polars as pl

from ggk.definitions import DatasetSpec

BOM = b"\xef\xbb\xbf"
LINE = "line"
N_FIELDS = "__n_fields"
ALTERNATIVE_DELIMITERS = (",", "\t")
UNUSED_SEPARATOR = "\x1f"  # ASCII unit separator: not expected in a delivery


MAX_HEADER_BYTES = 64 * 1024  # a real header is a few hundred bytes; see kopregel-te-lang
MAX_NAMED_COLUMNS = 20  # more unknown names than this: one kolommen-onbekend finding
GROUPED_EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class FileFinding:
    code: str
    column: str | None = None
    line: int | None = None
    value: str | None = None  # what the data officer needs to find it, e.g. where a bad byte is
    names: tuple[str, ...] = ()  # kolommen-onbekend: the first unknown names (masked later)


@dataclass(frozen=True, slots=True)
class OpenQuote:
    """A record whose quoted field is still open at the end of the file."""

    line: int  # its first physical line
    last_line: int  # the file's last physical line: everything from `line` on is this record

    @property
    def unchecked(self) -> str:
        n = self.last_line - self.line + 1
        return f"regels {self.line} t/m {self.last_line} ({n} regels) niet gecontroleerd"


@dataclass(slots=True)
class ParsedFile:
    """The outcome of reading: either file findings, or a frame of records."""

    physical_lines: int
    header_line: int | None = None
    columns: list[str] = field(default_factory=list)
    records: pl.DataFrame | None = None  # LINE, N_FIELDS and one string column per header column
    file_findings: list[FileFinding] = field(default_factory=list)
    data_lines: int = 0  # non-blank records after the header, also when the header is refused
    open_quote: OpenQuote | None = None  # a data record that runs to the end of the file


def _split_header(text: str, delimiter: str, quote: str) -> list[str]:
    try:
        cells = next(csv.reader([text], delimiter=delimiter, quotechar=quote))
    except (csv.Error, StopIteration):
        cells = text.split(delimiter)
    return [c.strip().strip(quote).strip().lower() for c in cells]


def _physical_lines(raw: bytes) -> pl.Series:
    """Every physical line (CR of CRLF removed; null or empty for a blank line), fast path first.

    Polars' CSV reader with a separator that does not occur in the file splits lines in native code
    and keeps blank lines (as null), so row i is physical line i+1. Files containing that
    separator take the plain string split instead.
    """
    if UNUSED_SEPARATOR.encode() not in raw and raw.count(b"\r") == raw.count(b"\r\n"):
        try:
            return pl.read_csv(
                io.BytesIO(raw), has_header=False, separator=UNUSED_SEPARATOR, quote_char=None,
                new_columns=["text"], schema={"text": pl.String}, raise_if_empty=False,
            ).to_series()
        except pl.exceptions.ComputeError:
            pass
    text = raw.decode("utf-8")
    if text.endswith("\n"):
        text = text[:-1]
    return (pl.Series("text", [text], dtype=pl.String)
            .str.split("\n").explode().str.strip_suffix("\r"))


def _ends_inside_quotes(delimiter: str, quote: str) -> tuple[pl.Expr, pl.Expr]:
    """Whether a physical line ends inside a quoted field, when it starts outside / inside one.

    A quote opens a quoted field only at the start of a field (after optional spaces), as in
    Python's csv module and Polars; a stray quote inside an unquoted value (`Z"IN`) is a plain
    character and must not swallow the following lines.
    """
    d, q, nd, nq = _re(delimiter), _re(quote), _cls(delimiter), _cls(quote)
    inside = f"(?:[^{nq}]|{q}{q})*"
    after = _after_closing_quote(delimiter, quote)
    blank = _blank(delimiter)
    field = f"(?:{blank}*{q}{inside}{q}{after}|{blank}*(?:[^{nd}{nq} \\t][^{nd}]*)?)"
    opens = f"(?:{field}{d})*{blank}*{q}{inside}$"
    text = pl.col("text").fill_null("")
    has_quote = text.str.contains(quote, literal=True)
    from_outside = has_quote & text.str.contains(f"^{opens}")
    from_inside = ~has_quote | text.str.contains(f"^{inside}$") | text.str.contains(
        f"^{inside}{q}{after}{d}{opens}"
    )
    return from_outside, from_inside


def _records(raw: bytes, quote: str, delimiter: str) -> tuple[pl.DataFrame, OpenQuote | None]:
    """Non-blank logical records with the physical line number of their first line, and the
    record that is still inside a quoted field at the end of the file, if any."""
    frame = pl.DataFrame({"text": _physical_lines(raw)}).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(LINE)
    )
    if quote.encode() in raw:
        # A quoted field may span lines. Each line maps the state "inside a quoted field" at its
        # start to the state at its end: a constant, the identity or a negation. The state after
        # a line is the value of the last constant line XOR the parity of negations since then:
        # a vectorised scan, no Python loop per line.
        from_outside, from_inside = _ends_inside_quotes(delimiter, quote)
        if not frame.select(from_outside.any()).item():
            return frame.filter(pl.col("text").str.strip_chars() != ""), None  # no multi-line
        constant = pl.col("__a") == pl.col("__b")
        negation = pl.col("__a") & ~pl.col("__b")
        frame = (
            frame.with_columns(from_outside.alias("__a"), from_inside.alias("__b"))
            .with_columns(
                pl.when(constant).then(pl.col("__a")).forward_fill().fill_null(False).alias("__base"),
                negation.cast(pl.UInt32).cum_sum().over(constant.cum_sum()).alias("__parity"),
            )
            .with_columns(
                (pl.col("__base") ^ ((pl.col("__parity") % 2) == 1)).alias("__open")
            )
            .with_columns(
                (~pl.col("__open").shift(1, fill_value=False)).cum_sum().alias("__record")
            )
            .group_by("__record", maintain_order=True)
            .agg(pl.col(LINE).first(), pl.col("text").fill_null("").str.join("\n"),
                 pl.col("__open").last(), pl.col(LINE).last().alias("__last"))
            .drop("__record")
        )
        open_quote = None
        if frame.height and frame["__open"][-1]:
            open_quote = OpenQuote(int(frame[LINE][-1]), int(frame["__last"][-1]))
        frame = frame.drop("__open", "__last")
        return frame.filter(pl.col("text").str.strip_chars() != ""), open_quote
    return frame.filter(pl.col("text").str.strip_chars() != ""), None


def _clean(expr: pl.Expr, quote: str) -> pl.Expr:
    """Unquoted values are trimmed; a quoted value keeps its inner spaces; empty means no value."""
    trimmed = expr.str.strip_chars(" \t")
    quoted = trimmed.str.starts_with(quote) & trimmed.str.ends_with(quote) & (
        trimmed.str.len_bytes() >= 2 * len(quote.encode())
    )
    unquoted = trimmed.str.strip_prefix(quote).str.strip_suffix(quote).str.replace_all(
        quote + quote, quote, literal=True
    )
    value = pl.when(quoted).then(unquoted).otherwise(trimmed)
    return pl.when(value == "").then(None).otherwise(value)


def _fields(data: pl.DataFrame, columns: list[str], delimiter: str, quote: str) -> pl.DataFrame:
    n = len(columns)
    if data.select(pl.col("text").str.contains(quote, literal=True).any()).item():
        has_quote = pl.col("text").str.contains(quote, literal=True)
        plain, quoted = data.filter(~has_quote), data.filter(has_quote)
    else:  # the common case: no quotes at all, no copies
        plain, quoted = data, data.clear()
    parts = []
    if plain.height:
        # Split into n+1 parts: a value in the extra part means too many fields, a missing last
        # part too few; the exact count only matters as "not n" (aantal-velden).
        split = pl.col("text").str.split_exact(delimiter, n).struct.rename_fields(
            [*columns, "__extra"]
        )
        padded = plain.select(
            pl.col("text").str.contains(" ", literal=True).any()
            | pl.col("text").str.contains("\t", literal=True).any()
        ).item()
        tidy = (lambda c: pl.col(c).str.strip_chars(" \t")) if padded else pl.col
        parts.append(
            plain.select(LINE, split.alias("__s"))
            .unnest("__s")
            .with_columns(
                pl.when(pl.col("__extra").is_not_null()).then(n + 1)
                .when(pl.col(columns[-1]).is_null()).then(n - 1)
                .otherwise(n).cast(pl.UInt32).alias(N_FIELDS),
                *(pl.when(tidy(c) != "").then(tidy(c)).alias(c) for c in columns),
            )
            .drop("__extra")
            .select(LINE, N_FIELDS, *columns)
        )
    if quoted.height:
        # Each field is matched together with the delimiter that ends it (a delimiter is appended
        # to the record), so every match is non-empty and empty fields are never skipped.
        d, q = _re(delimiter), _re(quote)
        # A quoted field may be preceded by spaces (as in _ends_inside_quotes).
        nd, nq = _cls(delimiter), _cls(quote)
        after = _after_closing_quote(delimiter, quote)
        pattern = f"({_blank(delimiter)}*{q}(?:[^{nq}]|{q}{q})*{q}{after}|[^{nd}]*){d}"
        # Materialise the cells once; the per-column expressions then read plain columns
        # (extract_all inside every column expression made quoted files ~10x slower).
        cells = quoted.select(
            LINE, (pl.col("text") + delimiter).str.extract_all(pattern).alias("__cells")
        ).select(
            LINE,
            pl.col("__cells").list.len().alias(N_FIELDS),
            *(
                pl.col("__cells").list.get(i, null_on_oob=True).str.strip_suffix(delimiter).alias(c)
                for i, c in enumerate(columns)
            ),
        )
        parts.append(cells.with_columns(_clean(pl.col(c), quote).alias(c) for c in columns))
    if not parts:
        return pl.DataFrame(
            {LINE: [], N_FIELDS: [], **{c: [] for c in columns}},
            schema={LINE: pl.Int64, N_FIELDS: pl.UInt32, **{c: pl.String for c in columns}},
        )
    frame = pl.concat([p.with_columns(pl.col(N_FIELDS).cast(pl.UInt32)) for p in parts])
    return frame.sort(LINE) if len(parts) > 1 else frame


def _re(text: str) -> str:
    return re.escape(text)


def _after_closing_quote(delimiter: str, quote: str) -> str:
    """What may follow the closing quote of a field before the delimiter: not a quote. Two
    quotes are an escaped quote, so the closing quote is the first one not followed by another.
    Allowing a quote here let a line ending in a field of four quotes, a delimiter and a quote
    (the value: one quote and the delimiter) parse both as closed and as still open, so the rest
    of the file was swallowed (found by the fuzz test against the csv module)."""
    nd, nq = _cls(delimiter), _cls(quote)
    return f"(?:[^{nd}{nq}][^{nd}]*)?"


def _blank(delimiter: str) -> str:
    """Spaces and tabs that may precede a quoted field, except the delimiter itself (tab)."""
    return "[" + "".join(rx for c, rx in ((" ", " "), ("\t", "\\t")) if c != delimiter) + "]"


def _cls(text: str) -> str:
    return text.replace("\\", "\\\\").replace("]", "\\]").replace("^", "\\^").replace("-", "\\-")


PADDED_LINES_LIMIT = 10_000


def _trimmed(raw: bytes, delimiter: str) -> bytes | None:
    """`raw` with every value on a line holding a space or tab trimmed of spaces and tabs (as
    _fields trims them), or None when there are more than PADDED_LINES_LIMIT of those characters.

    Most files have none or a few (`3,5 uur`): trimming those lines in the bytes costs next to
    nothing, where trimming (or rewriting) every column after the read costs more than the read.
    Line ends, delimiters and so line numbers and field counts stay as they are.
    """
    positions: list[int] = []
    for blank in (b" ", b"\t"):
        at = raw.find(blank)
        while at != -1:
            if len(positions) == PADDED_LINES_LIMIT:
                return None
            positions.append(at)
            at = raw.find(blank, at + 1)
    sep = delimiter.encode()
    pieces: list[bytes] = []
    done = 0  # raw[:done] is in pieces
    for at in sorted(positions):
        if at < done:
            continue  # on a line already trimmed
        start = raw.rfind(b"\n", 0, at) + 1
        end = raw.find(b"\n", at)
        end = len(raw) if end == -1 else end
        line = raw[start:end]
        cr = b"\r" if line.endswith(b"\r") else b""
        tidy = sep.join(v.strip(b" \t") for v in line.removesuffix(b"\r").split(sep)) + cr
        if tidy != line:  # not just spaces inside values
            pieces += [raw[done:start], tidy]
            done = end
    return b"".join([*pieces, raw[done:]]) if pieces else raw


def _read_plain(raw: bytes, spec: DatasetSpec, physical: int) -> ParsedFile | None:
    """The common clean file in one native `read_csv`, or None to leave it to the general path.

    Reading every line as text, finding records and splitting fields (_records, _fields) costs
    several times a plain CSV read. This path gives the same ParsedFile, and is only taken when
    that is certain: no quote character anywhere (no quoted or multi-line field), no CR outside
    CRLF, line 1 naming exactly the dataset's columns, and every line holding exactly n-1
    delimiters. The last is proven without a loop: the total delimiter count is (n-1) per
    physical line, Polars reads one row per data line and refuses a line with more than n fields,
    so no line can have fewer either (which also rules out blank lines, as n >= 2).
    """
    delimiter, quote = spec.dialect.delimiter, spec.dialect.quote_char
    if len(delimiter.encode()) != 1 or not quote or quote.encode() in raw or physical < 2:
        return None
    if b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    end = raw.find(b"\n")
    header_text = raw[:end].decode("utf-8").removesuffix("\r")
    columns = _split_header(header_text, delimiter, quote)
    n = len(columns)
    if n < 2 or sorted(columns) != sorted(spec.field_names):  # header findings: general path
        return None
    if raw.count(delimiter.encode()) != (n - 1) * physical:
        return None
    if not raw.endswith(b"\n"):
        raw += b"\n"  # Polars accepts a last line with one field too many when it has no newline
    trimmed = _trimmed(raw, delimiter)
    try:
        frame = pl.read_csv(
            raw if trimmed is None else trimmed, has_header=False, skip_rows=1,
            separator=delimiter, quote_char=None, schema=dict.fromkeys(columns, pl.String),
            truncate_ragged_lines=False,
        )
    except pl.exceptions.PolarsError:  # a line with more than n fields (or the first with fewer)
        return None
    if frame.height != physical - 1:
        return None
    if trimmed is None:  # padded throughout: trim every value; whitespace only means empty
        tidy = (pl.col(c).str.strip_chars(" \t") for c in columns)
        frame = frame.with_columns(pl.when(t != "").then(t).name.keep() for t in tidy)
    records = frame.select(
        pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(LINE),
        pl.lit(n, dtype=pl.UInt32).alias(N_FIELDS),
        *columns,
    )
    return ParsedFile(physical, header_line=1, columns=columns, records=records,
                      data_lines=frame.height)


def read_delivery(raw: bytes, spec: DatasetSpec, *, fast: bool = True) -> ParsedFile:
    """Parse the bytes of one delivered file of dataset `spec`; never raises on content.

    `fast=False` skips the clean-file path (for tests proving both paths agree).
    """
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    physical = raw.count(b"\n") + (0 if raw.endswith(b"\n") or not raw else 1)
    if (too_long := _header_too_long(raw, physical)) is not None:
        return too_long
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        # Spec section 4: a file-level finding has no line. Where the first invalid byte is goes
        # in the finding's value, so the data officer can still find it.
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        where = f"regel {line}, positie {column}: byte 0x{raw[e.start]:02X}"
        return ParsedFile(physical, file_findings=[FileFinding("codering", value=where)])
    if fast and (plain := _read_plain(raw, spec, physical)) is not None:
        return plain
    delimiter, quote = spec.dialect.delimiter, spec.dialect.quote_char
    records, open_quote = _records(raw, quote, delimiter)
    if records.height == 0:
        return ParsedFile(physical, file_findings=[FileFinding("bestand-leeg")])

    header_line = int(records[LINE][0])
    header_text = records["text"][0]
    if len(header_text) > MAX_HEADER_BYTES:  # quoted line ends in the header
        findings = [_header_finding(len(header_text.encode()), header_line)]
        if open_quote is not None and open_quote.line == header_line:
            findings.append(FileFinding("aanhalingsteken-open", line=header_line,
                                        value=open_quote.unchecked))
        return ParsedFile(physical, header_line=header_line, data_lines=records.height - 1,
                          file_findings=findings)
    columns = _split_header(header_text, delimiter, quote)
    parsed = ParsedFile(physical, header_line=header_line, columns=columns,
                        data_lines=records.height - 1)
    parsed.file_findings = _header_findings(header_text, columns, spec, header_line)
    if open_quote is not None:
        if open_quote.line == header_line:
            parsed.file_findings.append(
                FileFinding("aanhalingsteken-open", line=header_line, value=open_quote.unchecked))
        else:
            parsed.open_quote = open_quote
    if parsed.file_findings:
        return parsed
    parsed.records = _fields(records.slice(1), columns, delimiter, quote)
    return parsed


def _header_findings(header_text: str, columns: list[str], spec: DatasetSpec, header_line: int
                     ) -> list[FileFinding]:
    """scheidingsteken, or kolom-dubbel, kolom-ontbreekt and kolom-onbekend (one per name), or
    kolommen-onbekend (one for all) when more than MAX_NAMED_COLUMNS names are unknown: a
    report's size must not grow with the header."""
    delimiter, quote = spec.dialect.delimiter, spec.dialect.quote_char
    known = set(spec.field_names)
    if not known & set(columns):
        for alternative in ALTERNATIVE_DELIMITERS:
            if alternative != delimiter and known & set(
                    _split_header(header_text, alternative, quote)):
                return [FileFinding("scheidingsteken", line=header_line)]
    unknown = [name for name in dict.fromkeys(columns) if name not in known]
    grouped = len(unknown) > MAX_NAMED_COLUMNS
    findings: list[FileFinding] = []
    seen: set[str] = set()
    doubled: set[str] = set()
    for name in columns:
        if name in seen and name not in doubled and not (grouped and name not in known):
            findings.append(FileFinding("kolom-dubbel", name, header_line))
            doubled.add(name)
        seen.add(name)
    for name in spec.field_names:
        if name not in seen:
            findings.append(FileFinding("kolom-ontbreekt", name, header_line))
    if grouped:
        cells = sum(1 for name in columns if name not in known)
        findings.append(FileFinding("kolommen-onbekend", line=header_line, value=str(cells),
                                    names=tuple(unknown[:GROUPED_EXAMPLES])))
    else:
        findings += [FileFinding("kolom-onbekend", name, header_line) for name in unknown]
    return findings


def _header_finding(size: int, header_line: int) -> FileFinding:
    return FileFinding("kopregel-te-lang", line=header_line, value=f"kopregel van {size} bytes")


def _header_too_long(raw: bytes, physical: int) -> ParsedFile | None:
    """kopregel-te-lang when the first non-blank line is longer than MAX_HEADER_BYTES, found on
    the bytes before anything else is done with them: splitting a header of millions of names
    costs memory and time for each name, and no report should list them."""
    first = re.search(rb"[^ \t\r\n]", raw)
    if first is None:
        return None
    start = raw.rfind(b"\n", 0, first.start()) + 1
    end = raw.find(b"\n", start)
    end = len(raw) if end == -1 else end
    if end - start <= MAX_HEADER_BYTES:
        return None
    # non-blank lines after the header: runs of other bytes once blanks are removed (no list)
    rest = raw[end:].translate(None, b" \t\r")
    data_lines = re.subn(rb"[^\n]+", b"", rest)[1]
    del rest
    header_line = raw.count(b"\n", 0, start) + 1
    return ParsedFile(physical, header_line=header_line, data_lines=data_lines,
                      file_findings=[_header_finding(end - start, header_line)])
