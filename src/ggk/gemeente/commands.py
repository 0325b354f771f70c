"""CLI: `ggk gemeente submit|status|reports|besluit`, and `ggk ketentest`.

User text is Dutch (municipalities read it). Exit codes: 0 ok, 1 the chain said no (afgekeurd,
ketentest failed), 2 usage or I/O errors (missing file, unreachable hub, wrong certificate).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ggk.definitions.options import DefinitionsOption, StatisticOption

HubOption = Annotated[str, typer.Option("--hub", envvar="GGK_HUB", help="Adres van de hub.")]
CertOption = Annotated[Path, typer.Option(
    "--cert", envvar="GGK_CERT", help="PEM met het certificaat en de sleutel van de gemeente.")]
CaOption = Annotated[Path, typer.Option(
    "--ca", envvar="GGK_CA", help="PEM van de CA die de hub vertrouwt.")]
OptionalPeriod = Annotated[str | None, typer.Option(
    "--period", help="Periode, bijvoorbeeld 2026-H1 of 2026-Q2 (standaard: de periode waarvoor nu "
    "aangeleverd kan worden, anders de eerste van de statistiek).")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    from rich.console import Console
    from rich.markup import escape

    from ggk.validation.commands import printable

    # the message may hold a file name or a hub's text: shown as text, never read as markup
    Console(stderr=True).print(f"[bold red]Fout:[/] {escape(printable(message))}")
    return typer.Exit(code)


def upload_description(file_name: str) -> str:
    """The progress bar's description (Rich markup) for uploading `file_name`: the name is shown
    as text, never read as markup (`[/]`, `[bold]`), and its control characters are shown, not
    sent to the terminal."""
    from rich.markup import escape

    from ggk.validation.commands import printable

    return f"uploaden {escape(printable(file_name))}"


def _client(hub: str, cert: Path, ca: Path) -> Any:
    from ggk.client import HubClient

    for label, path in (("certificaat (--cert)", cert), ("CA (--ca)", ca)):
        if not path.is_file():
            raise _fail(f"{label} niet gevonden: {path}")
    try:
        return HubClient(hub, cert=cert, ca=ca)
    except Exception as e:  # noqa: BLE001 - bad PEM, bad URL
        raise _fail(f"kan geen verbinding opzetten met {hub}: {e}") from e


def _definition(statistic: str | None, definitions: list[Path] | None,
                period: str | None) -> tuple[Any, str]:
    """The definition of `statistic` (default: the first) and the period: the given one, or the
    one that is open for deliveries today (else the statistic's first)."""
    import datetime as dt

    from ggk.definitions import DefinitionError, UnknownPeriod, registry

    try:
        found = registry(definitions or ())
        name = statistic or found.default_statistic()
        period = period or found.latest(name).current_period(dt.date.today())
        return found.for_period(name, period), period
    except (UnknownPeriod, DefinitionError) as e:
        raise _fail(f"onbekende statistiek of periode: {e}") from e


def _guard(action: Any) -> Any:
    """Run `action()`; turn hub/client errors and GemeenteError into exit 2 with a Dutch line."""
    from ggk.client.interfaces import ClientError
    from ggk.gemeente.submit import GemeenteError

    try:
        return action()
    except GemeenteError as e:
        raise _fail(str(e)) from e
    except ClientError as e:
        raise _fail(f"de hub gaf een fout: {e}") from e
    except OSError as e:
        raise _fail(f"lezen of schrijven mislukt: {e}") from e


def submit(
    file: Annotated[Path, typer.Argument(help="Het aan te leveren CSV-bestand.")],
    period: OptionalPeriod = None,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", help="Dataset van de statistiek (standaard: de eerste verplichte).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Ook versturen bij fouten.")] = False,
    referenced: Annotated[Path | None, typer.Option(
        "--verplicht-bestand", help="Bestand van de dataset waarnaar deze dataset verwijst, voor "
        "de controle of elke regel daarin voorkomt.")] = None,
    hub: HubOption = "https://127.0.0.1:8443",
    cert: CertOption = Path("gemeente.pem"),
    ca: CaOption = Path("ca.pem"),
    statistic: StatisticOption = None,
    definitions: DefinitionsOption = None,
) -> None:
    """Controleer een bestand lokaal en lever het aan bij CBS (een aanlevering)."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from ggk.gemeente.submit import check_locally, own_gemeentecode, submit_file

    console = Console()
    if not file.is_file():
        raise _fail(f"bestand niet gevonden: {file}")
    definition, period = _definition(statistic, definitions, period)
    dataset = dataset or definition.required_dataset
    with _client(hub, cert, ca) as client:
        gemeente = _guard(lambda: own_gemeentecode(client))
        result = _guard(lambda: check_locally(file, period=period, dataset=dataset,
                                              gemeente=gemeente, definition=definition,
                                              referenced=referenced))
        from ggk.validation.commands import print_summary

        print_summary(result.report)
        if not result.accepted and not force:
            raise _fail("het bestand is afgekeurd en is NIET verstuurd. Verbeter de fouten "
                        "hierboven, of verstuur toch met --force.", 1)
        if not result.accepted:
            console.print("[yellow]--force: het bestand wordt toch verstuurd; CBS zal het "
                          "afkeuren.[/]")
        with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                      TransferSpeedColumn(), console=console, transient=True) as bar:
            task = bar.add_task(upload_description(file.name), total=file.stat().st_size)
            sent = _guard(lambda: submit_file(
                client, file, statistic=definition.statistic, period=period, dataset=dataset,
                gemeente=gemeente,
                progress=lambda _name, done, total: bar.update(task, completed=done, total=total)))
    if sent.state == "refused":
        raise _fail(f"de hub weigerde het bestand ({sent.refusal_reason}); verstuur het opnieuw")
    console.print(f"[green]Verstuurd[/]: aanlevering {sent.id} ({dataset}, {period}, {gemeente}). "
                  "Haal het technisch controlerapport op met `ggk gemeente reports`.")


def status(
    period: Annotated[str | None, typer.Option("--period", help="Alleen deze periode.")] = None,
    reports_dir: Annotated[Path, typer.Option(
        "--reports", envvar="GGK_REPORTS",
        help="Map waarin `ggk gemeente reports` de rapporten bewaart.")] = Path("rapporten"),
    hub: HubOption = "https://127.0.0.1:8443",
    cert: CertOption = Path("gemeente.pem"),
    ca: CaOption = Path("ca.pem"),
) -> None:
    """Toon per dataset de laatste aanlevering, het oordeel van CBS, de rapporten en het besluit."""
    from rich.console import Console

    from ggk.conversation import kind_of
    from ggk.gemeente.status import extensions, overview, sent_messages, unread_reports
    from ggk.gemeente.submit import own_gemeentecode
    from ggk.localtime import shown

    console = Console()
    with _client(hub, cert, ca) as client:
        gemeente = _guard(lambda: own_gemeentecode(client))
        groups = _guard(lambda: overview(client, period, reports_dir))
        lines = _guard(lambda: sent_messages(client, period))
        unread = _guard(lambda: unread_reports(client, period))
        uitstel = _guard(lambda: extensions(client, period, reports_dir))
    title = f"Status van {gemeente}" + (f" voor {period}" if period else "")
    console.print(f"[bold]{title}[/]" if groups else f"{title}: nog niets verstuurd.")
    for group in groups:
        latest = group.latest
        sent = shown(latest.sent_at)
        what = (f"besluit {latest.onderwerp}" if group.onderwerp == "besluit"
                else f"aanlevering {latest.bestand}")
        console.print(f"  [bold]{group.period} {group.onderwerp}[/]: laatste {what} op {sent}, "
                      f"{latest.toelichting} ({group.sent_count} keer verstuurd)", soft_wrap=True)
        console.print(f"    oordeel: [bold]{group.oordeel}[/]", soft_wrap=True)
        console.print(f"    rapporten: {group.rapporten}", soft_wrap=True)
    for grant in uitstel:
        console.print(f"  [bold]uitstel {grant.metadata.get('period', '')}[/] tot "
                      f"{grant.metadata.get('tot', '?')}: {grant.metadata.get('bericht', '')}"
                      + ("" if grant.fetched else " (nog ophalen)"), soft_wrap=True)
    if not reports_dir.is_dir():
        console.print(f"[dim](map {reports_dir} bestaat niet: alleen rapporten die nog klaarliggen "
                      "tellen mee; geef --reports DIR)[/]")
    if lines:
        console.print("[bold]Verzonden berichten[/]")
    for line in lines:
        sent = shown(line.sent_at)
        console.print(f"  {sent}  {line.type} {line.onderwerp}  {line.bestand}  "
                      f"[bold]{line.toelichting}[/]  ({line.message_id})", soft_wrap=True)
    if unread:
        console.print(f"[bold]{len(unread)} rapport(en) klaar om op te halen[/] "
                      "(`ggk gemeente reports --out DIR`):")
        for message in unread:
            m = message.metadata or {}
            console.print(f"  - {kind_of(message.type) or message.type}: "
                          f"{m.get('verdict') or m.get('besluit') or m.get('reden') or ''} "
                          f"{m.get('toestand', '')}")
    else:
        console.print("Geen nieuwe rapporten.")


def reports(
    out: Annotated[Path, typer.Option("--out", envvar="GGK_REPORTS",
                                      help="Map waarin de rapporten komen.")],
    wait: Annotated[float, typer.Option(
        "--wait", help="Seconden wachten op nieuwe berichten.")] = 0,
    until: Annotated[str | None, typer.Option(
        "--until", help="Blijf ophalen tot dit soort bericht binnen is (technisch-"
        "controlerapport, spiegelrapport, bevestiging of weigering), hooguit --wait seconden "
        "(standaard 120).")] = None,
    cbs_oin: Annotated[str | None, typer.Option(
        "--cbs-oin", envvar="GGK_CBS_OIN",
        help="OIN van CBS; alleen van deze partij worden rapporten aangenomen (standaard: de "
             "CBS-partij die de hub noemt).")] = None,
    hub: HubOption = "https://127.0.0.1:8443",
    cert: CertOption = Path("gemeente.pem"),
    ca: CaOption = Path("ca.pem"),
) -> None:
    """Haal alle rapporten van CBS op, bewaar ze en bevestig de ontvangst; beantwoord pings."""
    from rich.console import Console
    from rich.markup import escape

    from ggk.conversation import FROM_CBS, MessageType
    from ggk.gemeente.inbox import Inbox

    console = Console()
    wanted = None
    if until is not None:
        parsed = MessageType.parse(until)  # a kind, or a whole message type
        wanted = parsed.kind if parsed else {k.value: k for k in FROM_CBS}.get(until)
        if wanted not in FROM_CBS:
            raise _fail(f"onbekend soort bericht {until!r}: kies uit "
                        + ", ".join(k.value for k in FROM_CBS))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _fail(f"kan map {out} niet maken: {e}") from e
    with _client(hub, cert, ca) as client:
        inbox = Inbox(client, out, on_report=lambda r: console.print(
            f"[green]ontvangen[/] {r.describe()}\n  -> {r.directory}"), cbs_oin=cbs_oin,
            on_skip=lambda s: console.print(f"[yellow]let op[/] {escape(s.describe())}"))
        if wanted is None:
            received = _guard(lambda: inbox.collect(wait=wait))
        else:
            received = _guard(lambda: inbox.collect_until((wanted,), wait or 120))
    console.print(f"{len(received)} bericht(en) opgehaald en bevestigd." if received
                  else "Geen nieuwe rapporten.")
    if wanted is not None and not any(r.kind is wanted for r in received):
        console.print(f"[yellow]Nog geen {until} na {wait or 120:.0f} seconden.[/] CBS maakt het "
                      "nog; haal het later op met `ggk gemeente reports`.")
        raise typer.Exit(1)


def besluit(
    keuze: Annotated[str, typer.Argument(help="opt-in of intrekken")],
    period: OptionalPeriod = None,
    toelichting: Annotated[str | None, typer.Option("--toelichting")] = None,
    hub: HubOption = "https://127.0.0.1:8443",
    cert: CertOption = Path("gemeente.pem"),
    ca: CaOption = Path("ca.pem"),
    statistic: StatisticOption = None,
    definitions: DefinitionsOption = None,
) -> None:
    """Geef toestemming voor publicatie (opt-in) of trek uw gegevens in (intrekken)."""
    from rich.console import Console

    from ggk.gemeente.submit import BESLUITEN, own_gemeentecode, send_besluit

    if keuze not in BESLUITEN:
        raise _fail(f"onbekend besluit {keuze!r}: kies opt-in of intrekken")
    definition, period = _definition(statistic, definitions, period)
    with _client(hub, cert, ca) as client:
        gemeente = _guard(lambda: own_gemeentecode(client))
        sent = _guard(lambda: send_besluit(client, statistic=definition.statistic, period=period,
                                           besluit=keuze, gemeente=gemeente,
                                           toelichting=toelichting))
    Console().print(f"[green]Besluit {keuze} verstuurd[/] ({period}, {gemeente}, {sent.id}). "
                    "De bevestiging van CBS haalt u op met `ggk gemeente reports`.")


def ketentest(
    hub: HubOption = "https://127.0.0.1:8443",
    cert: CertOption = Path("gemeente.pem"),
    ca: CaOption = Path("ca.pem"),
    period: OptionalPeriod = None,
    statistic: StatisticOption = None,
    definitions: DefinitionsOption = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconden wachten per stap.")] = 120,
    work_dir: Annotated[Path | None, typer.Option(
        "--work-dir", help="Map voor testbestanden en rapporten (standaard een tijdelijke map).")
    ] = None,
) -> None:
    """Test de hele keten met testbestanden: afkeuren, goedkeuren, correctie, spiegelrapport,
    besluit. Exit 0 alleen als alles slaagt."""
    import tempfile

    from rich.console import Console

    from ggk.gemeente.ketentest import Ketentest, StepResult
    from ggk.gemeente.views import ketentest_table

    console = Console()
    definition, period = _definition(statistic, definitions, period)

    def show(step: StepResult) -> None:
        colour = {"geslaagd": "green", "mislukt": "red"}.get(step.outcome, "yellow")
        console.print(f"[{colour}]{step.outcome}[/] {step.name}: {step.detail}")

    with tempfile.TemporaryDirectory(prefix="ggk-ketentest-") as tmp:
        directory = work_dir or Path(tmp)
        with _client(hub, cert, ca) as client:
            report = Ketentest(client, directory, definition=definition, period=period,
                               timeout=timeout, on_step=show).run()
    console.print(ketentest_table(report))
    if not report.passed:
        failed = [s.name for s in report.steps if s.outcome == "mislukt"]
        raise _fail(f"ketentest mislukt bij stap: {', '.join(failed) or 'onbekend'}", 1)
    console.print("[bold green]Ketentest geslaagd.[/]")


def register(app: typer.Typer) -> None:
    gemeente_app = typer.Typer(help="Voor gemeenten: aanleveren, status, rapporten, besluit.",
                               no_args_is_help=True)
    gemeente_app.command("submit")(submit)
    gemeente_app.command("status")(status)
    gemeente_app.command("reports")(reports)
    gemeente_app.command("besluit")(besluit)
    app.add_typer(gemeente_app, name="gemeente")
    app.command("ketentest")(ketentest)

