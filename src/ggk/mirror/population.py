"""The municipalities a report compares (code, name, inhabitants, size class) and the national
figure: all municipalities pooled as one (code NL). Used by the report and by the reference."""

from __future__ import annotations

import polars as pl

from ggk.refdata import GemeenteRegister, UnknownGemeente, register

NATIONAL = "NL"


def gemeente_table(codes: list[str], reg: GemeenteRegister | None = None) -> pl.DataFrame:
    reg = reg or register()
    rows = []
    for code in codes:
        try:
            g = reg.get(code)
        except UnknownGemeente:
            continue
        rows.append((g.code, g.naam, g.inwoners, g.grootteklasse))
    return pl.DataFrame(
        rows,
        schema={
            "gemeentecode": pl.String,
            "naam": pl.String,
            "inwoners": pl.Int64,
            "grootteklasse": pl.Int64,
        },
        orient="row",
    )


def pooled(
    data: dict[str, pl.DataFrame], table: pl.DataFrame
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """All municipalities as one (code NL): the national figure with the same queries."""
    nl = {k: v.with_columns(pl.lit(NATIONAL).alias("gemeentecode")) for k, v in data.items()}
    nl_table = pl.DataFrame(
        {
            "gemeentecode": [NATIONAL],
            "naam": ["Nederland"],
            "inwoners": [int(table["inwoners"].sum())],
            "grootteklasse": [0],
        },
        schema=table.schema,
    )
    return nl, nl_table
