"""CLI of the hub client: send, mailbox, fetch, ack, receipt, burentest, answer-pings.

Every command takes `--hub URL --cert PARTY.pem --ca CA.pem` (or GGK_HUB, GGK_CERT, GGK_CA).
Heavy imports happen inside the functions so that `ggk --help` stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from ggk.client.hub_client import HubClient
    from ggk.client.interfaces import Message, ProgressCallback

HubOption = Annotated[
    str, typer.Option("--hub", envvar="GGK_HUB", help="Hub base URL, e.g. https://127.0.0.1:8443")
]
CertOption = Annotated[
    Path,
    typer.Option("--cert", envvar="GGK_CERT", help="Party certificate: one PEM with cert and key"),
]
CaOption = Annotated[
    Path, typer.Option("--ca", envvar="GGK_CA", help="CA file that signed the hub's certificate")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def _fail(message: str, code: int = 1) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def _client(
    hub: str, cert: Path, ca: Path, *, chunk_checksums: bool = False
) -> Iterator[HubClient]:
    from ggk.client.hub_client import HubClient
    from ggk.client.interfaces import ClientError

    try:
        with HubClient(hub, cert, ca, chunk_checksums=chunk_checksums) as client:
            yield client
    except ClientError as error:
        _fail(str(error))
    except (FileNotFoundError, IsADirectoryError) as error:
        _fail(str(error))


@contextmanager
def _transfer_progress(enabled: bool = True) -> Iterator[ProgressCallback | None]:
    """A Rich progress bar per file; yields the callback the client calls after each chunk."""
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        transient=False,
    ) as progress:

        def report(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=total)
            progress.update(tasks[name], completed=done, total=total)

        yield report


def _message_dict(message: Message) -> dict[str, Any]:
    from dataclasses import asdict

    return json.loads(json.dumps(asdict(message), default=str))


def _print_message(message: Message) -> None:
    from rich.console import Console

    console = Console()
    console.print(
        f"message [bold]{message.id}[/]: {message.type} from {message.sender} to "
        f"{message.receiver}, state [bold]{message.state}[/]"
        + (f" ({message.refusal_reason})" if message.refusal_reason else ""),
        highlight=False,
    )


def _parse_meta(items: list[str]) -> dict[str, str]:
    metadata: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            _fail(f"--meta expects KEY=VALUE, got {item!r}")
        metadata[key] = value
    return metadata


def register(app: typer.Typer) -> None:
    @app.command()
    def send(
        files: Annotated[list[Path], typer.Argument(help="Files to attach", show_default=False)],
        to: Annotated[str, typer.Option("--to", help="Receiver OIN (20 digits)")],
        type: Annotated[str, typer.Option(
            "--type", help="Message type, e.g. <statistic>.aanlevering")],
        hub: HubOption,
        cert: CertOption,
        ca: CaOption,
        meta: Annotated[list[str], typer.Option("--meta", help="Metadata KEY=VALUE")] = [],  # noqa: B006
        conversation: Annotated[str | None, typer.Option("--conversation")] = None,
        in_reply_to: Annotated[str | None, typer.Option("--in-reply-to")] = None,
        id: Annotated[
            str | None, typer.Option("--id", help="Message id; the same id again resumes")
        ] = None,
        chunk_checksums: Annotated[
            bool,
            typer.Option(
                "--chunk-checksums",
                help="Send a sha256 per upload chunk (tus checksum), for a path with a plain-HTTP "
                "hop; the whole file's sha256 is always checked",
            ),
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Send a message with attachments to a party (uploads resume after a broken line)."""
        metadata = _parse_meta(meta)
        with (
            _client(hub, cert, ca, chunk_checksums=chunk_checksums) as client,
            _transfer_progress(not as_json) as progress,
        ):
            message = client.send(
                to,
                type,
                metadata,
                files,
                id=id,
                conversation_id=conversation,
                in_reply_to=in_reply_to,
                progress=progress,
            )
        if as_json:
            typer.echo(json.dumps(_message_dict(message), indent=1))
        else:
            _print_message(message)
        if message.state == "refused":
            raise typer.Exit(1)

    @app.command()
    def mailbox(
        hub: HubOption,
        cert: CertOption,
        ca: CaOption,
        wait: Annotated[float, typer.Option("--wait", help="Long-poll up to S seconds")] = 0,
        all_: Annotated[
            bool, typer.Option("--all", help="All unacknowledged messages, not only new ones")
        ] = False,
        box: Annotated[str, typer.Option("--box", help="inbox or outbox")] = "inbox",
        type: Annotated[str | None, typer.Option("--type", help="Only this message type")] = None,
        as_json: JsonOption = False,
    ) -> None:
        """List new messages in your mailbox (remembers what was shown; --all for everything)."""
        from rich.console import Console
        from rich.table import Table

        from ggk.client.cursor_store import CursorStore

        if box not in ("inbox", "outbox"):
            _fail(f"--box must be inbox or outbox, not {box!r}")
        store = CursorStore()
        with _client(hub, cert, ca) as client:
            oin = client.me().oin
            after = None if all_ else store.get(hub, oin, box)
            if box == "inbox":
                messages = list(client.iter_new(after=after, wait=wait, type=type))
                cursors = [m.cursor for m in messages if m.cursor is not None]
                new_cursor = max(cursors) if cursors else None
            else:  # the outbox cursor moves on every state change of our sent messages
                page = client.mailbox(after=after, wait=wait, box="outbox", type=type)
                messages, new_cursor = list(page.messages), page.cursor
            if new_cursor is not None and not all_:
                store.set(hub, oin, new_cursor, box)
        if as_json:
            typer.echo(json.dumps([_message_dict(m) for m in messages], indent=1))
            return
        from ggk.localtime import shown

        table = Table(title=f"{box} of {oin}: {len(messages)} message(s)")
        party_column = "from" if box == "inbox" else "to"
        table.add_column("cursor")
        table.add_column("id", no_wrap=True, min_width=36)  # copied into `ggk fetch`/`ggk ack`
        for column in ("type", party_column, "state", "attachments", "created (Amsterdam)"):
            table.add_column(column, overflow="fold")
        for m in messages:
            table.add_row(
                str(m.cursor or ""),
                m.id,
                m.type,
                m.sender if box == "inbox" else m.receiver,
                m.state,
                ", ".join(f"{a.name} ({a.size:,} B)" for a in m.attachments),
                shown(m.created_at, seconds=True, empty=""),
            )
        Console().print(table)

    @app.command()
    def fetch(
        message_id: Annotated[str, typer.Argument(help="Message id")],
        hub: HubOption,
        cert: CertOption,
        ca: CaOption,
        out: Annotated[Path, typer.Option("--out", help="Folder for the attachments")] = Path("."),
        name: Annotated[str | None, typer.Option("--name", help="Only this attachment")] = None,
    ) -> None:
        """Download a message's attachments into a folder (resumes, verifies sha256)."""
        out.mkdir(parents=True, exist_ok=True)
        with _client(hub, cert, ca) as client:
            message = client.message(message_id)
            names = [name] if name else [a.name for a in message.attachments]
            (out / f"{message.id}.message.json").write_text(
                json.dumps(_message_dict(message), indent=1), encoding="utf-8"
            )
            with _transfer_progress() as progress:
                results = [client.download(message_id, n, out, progress) for n in names]
        for result in results:
            resumed = f", resumed at byte {result.resumed_from}" if result.resumed_from else ""
            typer.echo(f"{result.path} ({result.size} bytes, sha256 {result.sha256}{resumed})")
        if not names:
            typer.echo(f"message {message_id} has no attachments; metadata in {out}")

    @app.command()
    def ack(
        message_id: Annotated[str, typer.Argument(help="Message id")],
        hub: HubOption,
        cert: CertOption,
        ca: CaOption,
    ) -> None:
        """Acknowledge a received message (it leaves your inbox)."""
        with _client(hub, cert, ca) as client:
            _print_message(client.ack(message_id))

    @app.command()
    def receipt(
        message_id: Annotated[str, typer.Argument(help="Message id")],
        hub: HubOption,
        cert: CertOption,
        ca: CaOption,
        as_json: JsonOption = False,
    ) -> None:
        """Show the hub-signed receipt of a message, after verifying its Ed25519 signature."""
        from rich.console import Console
        from rich.table import Table

        with _client(hub, cert, ca) as client:
            verified = client.receipt(message_id)
        if as_json:
            typer.echo(
                json.dumps(
                    {"receipt": verified.document, "jws": verified.signature}, indent=1
                )
            )
            return
        console = Console()
        console.print(
            f"[green]signature verified[/] (hub key {verified.hub_key_id}): message "
            f"{verified.message_id}, {verified.type}, {verified.sender} -> {verified.receiver}",
            highlight=False,
        )
        from ggk.localtime import shown_iso

        table = Table(title=f"issued {shown_iso(verified.issued_at)}")
        for column in ("state", "at", "by"):
            table.add_column(column)
        for event in verified.events:
            table.add_row(event.state, shown_iso(event.at), event.by or "")
        console.print(table)
        for a in verified.attachments:
            console.print(
                f"attachment {a.get('name')}: {a.get('size')} bytes, sha256 {a.get('sha256')}"
            )

    @app.command()
    def burentest(
        hub: HubOption,
        cert: CertOption,
        ca: CaOption,
        peer: Annotated[str, typer.Option("--peer", help="OIN of the party to test with")],
        timeout: Annotated[
            float, typer.Option("--timeout", help="Seconds to wait for the peer")
        ] = 30.0,
    ) -> None:
        """Test the channel to a peer in both directions (TLS, certificates, ping/pong)."""
        from rich.console import Console
        from rich.table import Table

        from ggk.client.burentest import run_burentest

        for label, path in (("party certificate", cert), ("CA file", ca)):
            if not path.is_file():
                _fail(f"{label} not found: {path}")
        report = run_burentest(hub, cert, ca, peer, timeout=timeout)
        colours = {"ok": "green", "warning": "yellow", "failed": "red", "skipped": "dim"}
        table = Table(title=f"burentest with {peer} via {hub}")
        for column in ("check", "result", "time", "detail"):
            table.add_column(column)
        for check in report.checks:
            seconds = f"{check.seconds * 1000:.0f} ms" if check.seconds is not None else ""
            colour = colours[check.status]
            table.add_row(check.name, f"[{colour}]{check.status}[/]", seconds, check.detail)
        console = Console(width=160)
        console.print(table)
        failed = [c for c in report.checks if c.status == "failed"]
        if failed:
            for check in failed:
                console.print(f"[red]FAILED[/] {check.name}: {check.detail}", highlight=False)
            raise typer.Exit(1)
        console.print("[green]burentest passed: both directions work[/]")

    @app.command("answer-pings")
    def answer_pings(
        hub: HubOption,
        cert: CertOption,
        ca: CaOption,
        once: Annotated[
            bool, typer.Option("--once", help="Answer what is waiting, then stop")
        ] = False,
        for_: Annotated[
            float | None, typer.Option("--for", help="Run this many seconds, then stop")
        ] = None,
    ) -> None:
        """Answer pings (the peer side of a burentest when no station or gemeente client runs)."""
        from ggk.client.interfaces import PingAnswers
        from ggk.client.ping_responder import respond_to_pings

        def show(answers: PingAnswers) -> None:
            for pong in answers.pongs:
                typer.echo(f"pong {pong.id} -> {pong.receiver} (ping {pong.in_reply_to})")
            for ping in answers.pings_back:
                typer.echo(f"ping back {ping.id} -> {ping.receiver}")

        with _client(hub, cert, ca) as client:
            typer.echo(f"answering pings for {client.me().oin} at {hub}", err=True)
            try:
                respond_to_pings(client, seconds=for_, once=once, on_answers=show)
            except KeyboardInterrupt:
                typer.echo("stopped", err=True)
