"""A release shown on the console (the pilot's last step and operators)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from ggk.publication.models import Release
from ggk.publication.services import latest_release


def print_release(release: Release, console: Console) -> None:
    """Who is in and out, the disclosure summary and where every file is (Dutch, like the
    release notes: the pilot shows what the public gets)."""
    m = release.manifest
    c = m["aantallen"]
    console.print(
        f"Release [bold]{release.name}[/] van {m['statistic']} {m['periode']}: "
        f"{c['gepubliceerd']} gemeenten met opt-in gepubliceerd ({', '.join(m['gemeenten'])}); "
        f"niet opgenomen: {c['ingetrokken']} ingetrokken, {c['geen_besluit']} zonder besluit, "
        f"{c['niet_geleverd']} zonder goedgekeurde levering. {c['geheim']} van de "
        f"{c['cellen']} cellen geheim.")
    console.print(f"Bestanden in {release.directory}/", soft_wrap=True)
    table = Table()
    for column in ("bestand", "bytes", "sha256"):
        table.add_column(column, no_wrap=True)
    for name, entry in m["bestanden"].items():
        table.add_row(name, str(entry["bytes"]), entry["sha256"][:16] + "...")
    table.add_row("manifest.json", str((release.directory / "manifest.json").stat().st_size), "")
    console.print(table)


def show_station_publication(station: Any, statistic: str, period: str,
                             console: Console) -> Release | None:
    """Run the station's publication step now and print the period's latest release."""
    station.publish_due(force=True)
    release = latest_release(station.settings.resolved_publication_dir(), statistic, period)
    if release is not None:
        print_release(release, console)
    return release
