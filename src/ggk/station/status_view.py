"""Rich rendering of the operator view (`ggk station status`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ggk.clock import Clock
from ggk.definitions import Definition
from ggk.localtime import shown
from ggk.station.failures import Failure
from ggk.station.status import PeriodStatus, period_status
from ggk.station.workflow import State

STYLE = {
    State.GEEN_AANLEVERING: "dim", State.ONTVANGEN: "cyan", State.AFGEKEURD: "red",
    State.GOEDGEKEURD: "green", State.SPIEGELRAPPORT_VERZONDEN: "green",
    State.CORRECTIE_ONTVANGEN: "cyan", State.CORRECTIE_AFGEKEURD: "yellow",
    State.OPT_IN: "bold green", State.INGETROKKEN: "magenta",
}


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def status_table(status: PeriodStatus, show_all: bool) -> Table:
    rows = status.rows if show_all else status.active()
    which = "all" if show_all else "with activity"
    table = Table(title=f"{status.statistic} {status.period}: municipalities {which} "
                  f"({len({r.gemeente for r in rows})} of {status.totals['gemeenten']}), "
                  f"as of {shown(status.now, zone=True)}")
    for column in ("gemeente", "naam", "dataset", "state", "versions", "last delivery",
                   "deadline"):
        table.add_column(column, no_wrap=column != "naam")
    for r in rows:
        deadline = r.deadline.isoformat() + (" (uitstel)" if r.extension_until else "")
        state = f"[{STYLE[r.state]}]{r.state.value}[/]" + (" [bold red]te laat[/]"
                                                           if r.overdue else "")
        table.add_row(r.gemeente, r.naam, r.dataset, state,
                      str(r.versions) if r.versions else "-",
                      shown(r.last_delivery_at),
                      deadline)
    return table


def totals_table(status: PeriodStatus) -> Table:
    table = Table(title="totals")
    table.add_column("")
    table.add_column("count", justify="right")
    labels = {"gemeenten": "municipalities", "aangeleverd": "delivered (gemeente x dataset)",
              "goedgekeurd": "accepted", "afgekeurd": "rejected (latest delivery)",
              "opt-in": "opted in", "ingetrokken": "withdrawn",
              "te laat": "overdue (no accepted required dataset after deadline)",
              "geweigerd": "deliveries/besluiten refused", "in aggregaten": "used in aggregates"}
    for name, value in status.totals.items():
        table.add_row(f"{name} [dim]({labels.get(name, name)})[/]", str(value))
    return table


def health_table(health: list[tuple[Any, Any]]) -> Table:
    table = Table(title="channel health (hub)")
    for column in ("party", "role", "unacknowledged", "oldest", "bytes in", "bytes out"):
        table.add_column(column, justify="right" if column not in ("party", "role") else "left")
    for party, m in sorted(health, key=lambda pm: -pm[1].unacknowledged):
        name = f"{party.name} ({party.gemeentecode})" if party and party.gemeentecode else \
            (party.name if party else m.oin)
        table.add_row(name, party.role if party else "?", str(m.unacknowledged),
                      _age(m.oldest_unacknowledged_seconds), str(m.bytes_in), str(m.bytes_out))
    return table


def dead_letter_table(dead: list[Failure]) -> Table:
    """Messages the station gave up on (after its retries): release with `ggk station retry`."""
    table = Table(title=f"dead letters ({len(dead)}): not handled, not acknowledged at the hub")
    for column in ("message", "type", "sender", "attempts", "first failed", "dead since",
                   "last error"):
        table.add_column(column, no_wrap=column != "last error", overflow="fold")
    for f in dead:
        table.add_row(f.message_id, escape(f.type), f.sender, str(f.attempts),
                      shown(f.first_failed_at), shown(f.dead_at), escape(f.last_error))
    return table


def print_status(engine: sa.Engine, definition: Definition, period: str, clock: Clock,
                 gemeenten: list[tuple[str, str]], *, show_all: bool = False,
                 health: list[tuple[Any, Any]] | None = None,
                 dead: list[Failure] | None = None,
                 console: Console | None = None) -> PeriodStatus:
    console = console or Console(width=None if Console().is_terminal else 140)
    status = period_status(engine, definition, period, clock, gemeenten)
    console.print(status_table(status, show_all))
    overdue = [r.gemeente for r in status.rows if r.overdue and not r.versions]
    if overdue and not show_all:
        listed = ", ".join(overdue[:12]) + (f" and {len(overdue) - 12} more" if len(overdue) > 12
                                            else "")
        console.print(f"[bold red]overdue without any delivery:[/] {len(overdue)} "
                      f"municipalities ({listed}); --all lists every municipality")
    console.print(totals_table(status))
    if dead:
        console.print(dead_letter_table(dead))
        console.print("release them with `ggk station retry --message ID` (or --all-dead) once "
                      "the cause is gone")
    if health is not None:
        console.print(health_table(health))
    return status
