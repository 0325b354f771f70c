"""Plausibility flags (signalen): warnings with a reason, ordered by weight. They never reject."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ggk.mirror.interfaces import Indicator

Z_LIMIT = 3.0
MAD_SCALE = 1.4826
ZERO_WEIGHT = 5.0


@dataclass(frozen=True, slots=True)
class Flag:
    indicator: str
    soort: str  # afwijking-peers | verandering | nul
    gewicht: float
    reden: str  # plain Dutch; holds only disclosure-controlled figures
    robuuste_z: float | None = None
    verandering_procent: int | None = None


def robust_z(own: float, peers: Sequence[float]) -> float | None:
    """(own - median) / (1.4826 * MAD); None when fewer than 5 peers or no spread."""
    arr = np.asarray([p for p in peers if p is not None and not math.isnan(p)], dtype=float)
    if len(arr) < 5:
        return None
    median = float(np.median(arr))
    mad = float(np.median(np.abs(arr - median))) * MAD_SCALE
    if mad == 0:
        return None
    return (own - median) / mad


def flags_for(
    ind: Indicator,
    own: float | None,
    previous: float | None,
    peers: Sequence[float],
    shown_change: int | None,
) -> list[Flag]:
    out: list[Flag] = []
    if own is None or math.isnan(own):
        return out
    z = robust_z(own, peers) if ind.signaal_peers else None
    if z is not None and abs(z) > Z_LIMIT:
        kant = "hoger" if z > 0 else "lager"
        out.append(
            Flag(
                ind.code,
                "afwijking-peers",
                round(abs(z) / Z_LIMIT * ind.gewicht, 2),
                f"{ind.naam}: uw waarde is veel {kant} dan bij vergelijkbare gemeenten "
                f"(robuuste z-score {_nl(z)}, grens 3).",
                robuuste_z=round(z, 2),
            )
        )
    clean_peers = [p for p in peers if p is not None and not math.isnan(p)]
    if own == 0 and len(clean_peers) >= 5 and float(np.median(clean_peers)) > 0:
        out.append(
            Flag(
                ind.code,
                "nul",
                round(ZERO_WEIGHT * ind.gewicht, 2),
                f"{ind.naam}: uw waarde is nul, terwijl vergelijkbare gemeenten hier wel "
                "waarden hebben. Ontbreken er records of productcategorieën?",
            )
        )
    if previous is not None and previous > 0 and not math.isnan(previous):
        rel = (own - previous) / previous
        direction_ok = (
            ind.richting == "beide"
            or (ind.richting == "stijging" and rel > 0)
            or (ind.richting == "daling" and rel < 0)
        )
        if direction_ok and abs(rel) > ind.drempel_verandering:
            woord = "gestegen" if rel > 0 else "gedaald"
            amount = f"met {abs(shown_change)}%" if shown_change is not None else "sterk"
            out.append(
                Flag(
                    ind.code,
                    "verandering",
                    round(abs(rel) / ind.drempel_verandering * ind.gewicht, 2),
                    f"{ind.naam}: {amount} {woord} ten opzichte van de vorige periode "
                    f"(signaalgrens {round(ind.drempel_verandering * 100)}%).",
                    verandering_procent=shown_change,
                )
            )
    return out


def _nl(x: float) -> str:
    return f"{x:+.1f}".replace(".", ",")


def ordered(flags: list[Flag]) -> list[Flag]:
    return sorted(flags, key=lambda f: (-f.gewicht, f.indicator, f.soort))
