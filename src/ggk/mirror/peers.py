"""Peer groups (vergelijkbare gemeenten): the rule lives in indicators.toml ([peergroep])."""

from __future__ import annotations

from dataclasses import dataclass

from ggk.mirror.interfaces import PeerRule
from ggk.refdata import Gemeente, GemeenteRegister


@dataclass(frozen=True, slots=True)
class PeerGroup:
    gemeente: str
    members: tuple[str, ...]  # other municipalities of the group (never shown one by one)
    grootteklassen: tuple[int, ...]
    stedelijkheid_gebruikt: bool
    beschrijving: str


def peer_group(gemeente: Gemeente, register: GemeenteRegister, rule: PeerRule) -> PeerGroup:
    """Same size class (and urbanity where known for all); widened with the nearest adjacent size
    classes until the group has at least `rule.minimum` other municipalities."""
    everyone = [g for g in register.all() if g.code != gemeente.code]
    use_urbanity = (
        "stedelijkheid" in rule.kenmerken
        and gemeente.stedelijkheid is not None
        and all(g.stedelijkheid is not None for g in everyone)
    )
    if use_urbanity:
        candidates = [g for g in everyone if g.stedelijkheid == gemeente.stedelijkheid]
    else:
        candidates = everyone
    all_classes = sorted({sc.klasse for sc in register.size_classes()})
    classes = {gemeente.grootteklasse}
    distance = 1
    while sum(g.grootteklasse in classes for g in candidates) < rule.minimum:
        widened = {
            k
            for k in (gemeente.grootteklasse - distance, gemeente.grootteklasse + distance)
            if k in all_classes
        }
        if not widened and distance > len(all_classes):
            break
        classes |= widened
        distance += 1
    members = tuple(sorted(g.code for g in candidates if g.grootteklasse in classes))
    labels = {sc.klasse: sc.label for sc in register.size_classes()}
    klassen = tuple(sorted(classes))
    text = "gemeenten met " + " of ".join(labels[k] for k in klassen)
    if use_urbanity:
        text += f" en stedelijkheid {gemeente.stedelijkheid}"
    else:
        text += " (stedelijkheid is in de referentiegegevens van 2025 niet bekend en telt niet mee)"
    if len(klassen) > 1:
        text += (
            f"; de eigen grootteklasse telt minder dan {rule.minimum} andere gemeenten, "
            "daarom zijn aangrenzende grootteklassen toegevoegd"
        )
    return PeerGroup(gemeente.code, members, klassen, use_urbanity, text)
