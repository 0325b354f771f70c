"""Keyed pseudonyms for personal fields (BSN): HMAC-SHA256 with a secret key kept in a file
outside the database, created with mode 0600 when missing. The same BSN always gives the same
pseudonym under one key, so deliveries can be compared and linked, but the BSN cannot be recovered
without the key."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import polars as pl

KEY_BYTES = 32


class PseudonymKeyError(RuntimeError):
    """The key file is unreadable, too short or readable by others."""


def load_or_create_key(path: Path) -> bytes:
    """The key in `path` (hex); a fresh random key is written with 0600 when the file is missing."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another station process created it just now
            return load_or_create_key(path)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(KEY_BYTES) + "\n")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PseudonymKeyError(
            f"pseudonym key {path} is readable by others (mode {mode:o}); run chmod 600 {path}")
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError as e:
        raise PseudonymKeyError(f"pseudonym key {path} is not hex") from e
    if len(key) < 16:
        raise PseudonymKeyError(f"pseudonym key {path} is shorter than 16 bytes")
    return key


class Pseudonymiser:
    """Replaces personal values by `hmac_sha256(key, value)` in hex (64 characters)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def value(self, value: str | None) -> str | None:
        if value is None:
            return None
        return hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def series(self, series: pl.Series) -> pl.Series:
        key = self._key
        out = [None if v is None else hmac.new(key, str(v).encode("utf-8"), hashlib.sha256)
               .hexdigest() for v in series.to_list()]
        return pl.Series(series.name, out, dtype=pl.String)

    def expr(self, expr: pl.Expr) -> pl.Expr:
        """The pseudonym of a column as a Polars expression (for the validator's key_transform)."""
        return expr.cast(pl.String).map_batches(self.series, return_dtype=pl.String)

    def frame(self, frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
        return frame.with_columns([self.series(frame[c]) for c in columns if c in frame.columns])
