"""Synthetic burgerservicenummers (BSN) that pass the elfproef (spec section 6), drawn in bulk.

Synthetic by construction: numbers come from a seeded pseudo-random generator, never from or
against a person, and carry only invented attributes. They are drawn from the smallest block of
the form 999xxxxxx, 99xxxxxxx or 9xxxxxxxx that holds enough valid numbers; 999xxxxxx contains the
BRP test persons of RvIG (99999xxxx), so ordinary files (up to ~60,000 clients) use that block only.
"""

from __future__ import annotations

import numpy as np

WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int64)
PREFIXES = ("999", "99", "9")


def digits(numbers: np.ndarray) -> np.ndarray:
    """The 9 digits of each number as an (n, 9) array, most significant first."""
    powers = 10 ** np.arange(8, -1, -1, dtype=np.int64)
    return (numbers[:, None] // powers) % 10


def check_digit(first_eight: np.ndarray) -> np.ndarray:
    """For (n, 8) digits the ninth digit that makes the elfproef pass; 10 where none exists."""
    return (first_eight @ WEIGHTS) % 11


def passes_elfproef(numbers: np.ndarray) -> np.ndarray:
    d = digits(numbers)
    total = d[:, :8] @ WEIGHTS - d[:, 8]
    return (total % 11 == 0) & (numbers != 0)


def synthetic_bsns(n: int, rng: np.random.Generator, exclude: set[int] | None = None) -> np.ndarray:
    """`n` distinct elfproef-valid synthetic BSNs (int64) in random order."""
    exclude = exclude or set()
    need = n + len(exclude)
    for prefix in PREFIXES:
        free = 8 - len(prefix)  # free digits before the check digit
        if need * 1.25 + 50 <= 0.9 * 10**free:  # 10 of 11 residues give a valid check digit
            break
    else:
        raise ValueError(f"cannot draw {n} distinct synthetic BSNs")
    base = int(prefix) * 10**free
    draw = min(10**free, int(need * 1.25) + 64)
    while True:
        stems = base + rng.choice(10**free, size=draw, replace=False).astype(np.int64)
        first_eight = digits(stems * 10)[:, :8]
        check = check_digit(first_eight)
        ok = check < 10
        numbers = stems[ok] * 10 + check[ok]
        if exclude:
            numbers = numbers[~np.isin(numbers, np.fromiter(exclude, dtype=np.int64))]
        if len(numbers) >= n:
            return numbers[:n]
        draw = min(10**free, draw * 2)


def break_elfproef(numbers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same numbers with the check digit changed so the elfproef fails (still 9 digits)."""
    shift = rng.integers(1, 10, size=len(numbers))
    return numbers - numbers % 10 + (numbers % 10 + shift) % 10


def as_text(numbers: np.ndarray) -> list[str]:
    return [f"{int(x):09d}" for x in numbers]
