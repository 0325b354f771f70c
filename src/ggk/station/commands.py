"""`ggk station run|migrate|status|extend|purge` (operators at CBS; English)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from ggk.definitions.options import DefinitionsOption, StatisticOption

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Embedded: SQLite file, store and pseudonym key in here.")]
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", envvar="GGK_STATION_DATABASE_URL",
    help="Production: postgresql+psycopg://user@host/db")]
StoreDir = Annotated[Path | None, typer.Option(
    "--store-dir", help="File store (default DATA_DIR/station-store).")]
KeyFile = Annotated[Path | None, typer.Option(
    "--pseudonym-key", help="HMAC key file (created 0600 if missing; keep it outside the "
    "database and its backups).")]
S3Endpoint = Annotated[str | None, typer.Option(
    "--s3-endpoint", envvar="GGK_STATION_S3_ENDPOINT",
    help="S3-compatible object storage for raw files and replies (e.g. http://s3.internal:8333); "
         "credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.")]
S3Bucket = Annotated[str | None, typer.Option(
    "--s3-bucket", envvar="GGK_STATION_S3_BUCKET",
    help="Bucket for raw files and replies (default: the local store folder).")]
S3Region = Annotated[str | None, typer.Option("--s3-region", envvar="GGK_STATION_S3_REGION")]
S3Prefix = Annotated[str, typer.Option(
    "--s3-prefix", envvar="GGK_STATION_S3_PREFIX", help="Key prefix in the bucket.")]
Period = Annotated[str, typer.Option("--period", help="e.g. 2026-H1")]
Now = Annotated[str | None, typer.Option(
    "--now", help="Pretend it is this date/time (ISO), for simulations; default: real time.")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _settings(data_dir: Path | None, database_url: str | None, store_dir: Path | None,
              key: Path | None = None, **extra: Any) -> Any:
    from ggk.station.settings import StationSettings, s3_from_environment

    if data_dir is None and database_url is None:
        raise _fail("give --data-dir (embedded SQLite) or --database-url")
    if data_dir is None and store_dir is None:
        raise _fail("give --store-dir with --database-url")
    # the object storage of `run` and `purge` (flags), for every other command from the same
    # environment variables, so that all of them find the raw files and replies
    extra.update(s3_from_environment(extra))
    return StationSettings(data_dir=data_dir, database_url=database_url, store_dir=store_dir,
                           pseudonym_key=key, **extra)


def _clock(now: str | None) -> Any:
    from ggk.clock import SimulatedClock, SystemClock

    if now is None:
        return SystemClock()
    try:
        moment = dt.datetime.fromisoformat(now)
    except ValueError:
        raise _fail(f"--now {now!r} is not an ISO date or date-time") from None
    if moment.tzinfo is None:
        from zoneinfo import ZoneInfo

        moment = moment.replace(tzinfo=ZoneInfo("Europe/Amsterdam"))
        if len(now) == 10:
            moment = moment.replace(hour=12)
    return SimulatedClock(moment)


# Public for other packages' commands that read the station's records (ggk evaluatie).
def station_settings(data_dir: Path | None, database_url: str | None,
                     store_dir: Path | None) -> Any:
    """StationSettings from the --data-dir/--database-url/--store-dir options (exit 2 if wrong)."""
    return _settings(data_dir, database_url, store_dir)


def station_engine(settings: Any) -> Any:
    """The station's engine; exit 2 when its schema is not current."""
    return _migrated_engine(settings)


def station_clock(now: str | None) -> Any:
    """The clock of a --now option (simulated), or the system clock."""
    return _clock(now)


def _wait_for_hub(client: Any, hub: str, *, retry: bool, stop: Any) -> Any:
    """The CBS party behind the certificate, asked of the hub; a station started before its hub
    (or during a hub restart) waits with backoff instead of exiting. `--once` does not wait."""
    import logging

    from ggk.client import HubUnreachable

    backoff = 1.0
    while True:
        try:
            return client.me()
        except HubUnreachable as e:
            if not retry:
                raise _fail(f"hub {hub} is not reachable: {e}") from None
            logging.getLogger("ggk.station").warning(
                "hub %s is not reachable yet (%s); retrying in %.0f s", hub, e, backoff)
            if stop.wait(backoff):
                return None
            backoff = min(backoff * 2, 30.0)


def _migrated_engine(settings: Any) -> Any:
    from ggk.station.database import SchemaNotCurrent, create_engine, require_current_schema

    engine = create_engine(settings.resolved_database_url())
    try:
        require_current_schema(engine)
    except SchemaNotCurrent as e:
        raise _fail(str(e)) from None
    return engine


def register(app: typer.Typer) -> None:
    from ggk.station import publicatie_command, spiegelrapport_command

    spiegelrapport_command.register(app)
    publicatie_command.register(app)
    station = typer.Typer(help="The CBS station: process deliveries, operator view.",
                          no_args_is_help=True)
    app.add_typer(station, name="station")

    @station.command("migrate")
    def migrate_cmd(data_dir: DataDir = None, database_url: DatabaseUrl = None,
                    store_dir: StoreDir = None) -> None:
        """Create or upgrade the station schema (its own tables; version table
        alembic_version_station)."""
        from ggk.station.database import create_engine, migrate

        settings = _settings(data_dir, database_url, store_dir)
        before, after = migrate(create_engine(settings.resolved_database_url()))
        typer.echo(f"station schema: {before or 'empty'} -> {after}")

    @station.command("run")
    def run(
        hub: Annotated[str, typer.Option("--hub", help="Hub base URL, https://host:port")],
        cert: Annotated[Path, typer.Option("--cert", help="PEM with the CBS certificate + key")],
        ca: Annotated[Path, typer.Option("--ca", help="CA PEM that verifies the hub")],
        data_dir: DataDir = None, database_url: DatabaseUrl = None, store_dir: StoreDir = None,
        pseudonym_key: KeyFile = None,
        once: Annotated[bool, typer.Option("--once", help="Handle the inbox once, then stop.")]
        = False,
        wait: Annotated[float, typer.Option("--wait", help="Long-poll seconds per call.")] = 10.0,
        retention_days: Annotated[int, typer.Option(
            "--retention-days", help="Delete raw delivered files after this many days.")] = 30,
        claim_lease: Annotated[float, typer.Option(
            "--claim-lease", help="Seconds before another station may take over the claim of "
            "a station that stopped mid-message.")] = 300.0,
        now: Now = None,
        spiegelrapport: Annotated[bool, typer.Option(
            "--spiegelrapport/--no-spiegelrapport",
            help="Send the mirror report after an accepted required dataset (needs "
            "ggk.mirror).")] = True,
        mirror_workers: Annotated[int, typer.Option(
            "--mirror-workers", min=0, help="Worker processes that build mirror reports (at a "
            "lower priority); 0 builds them in the station process.")] = 2,
        metrics_port: Annotated[int | None, typer.Option(
            "--metrics-port", min=0, help="Serve Prometheus metrics at "
            "http://ADDRESS:PORT/metrics (docs/monitoring.md); off when not given.")] = None,
        metrics_address: Annotated[str, typer.Option(
            "--metrics-address", help="Address of the metrics endpoint (loopback by default; "
            "it has no authentication).")] = "127.0.0.1",
        definitions: DefinitionsOption = None,
        s3_endpoint: S3Endpoint = None, s3_bucket: S3Bucket = None, s3_region: S3Region = None,
        s3_prefix: S3Prefix = "station/",
    ) -> None:
        """Process deliveries and besluiten from the CBS mailbox and send the reports, for every
        defined statistic (the shipped ones and those in --definitions / GGK_DEFINITIONS)."""
        import logging
        import signal
        import threading

        from ggk.client import HubClient
        from ggk.definitions import DefinitionError, registry
        from ggk.station.service import Station

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        # One line per HTTP request and Alembic's plugin set-up drown the station's own lines.
        for noisy in ("httpx", "alembic.runtime.plugins"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        for path, what in ((cert, "--cert"), (ca, "--ca")):
            if not path.is_file():
                raise _fail(f"{what} {path} does not exist")
        settings = _settings(data_dir, database_url, store_dir, pseudonym_key,
                             retention_days=retention_days, claim_lease_seconds=claim_lease,
                             poll_wait=wait, mirror_workers=mirror_workers,
                             s3_endpoint_url=s3_endpoint, s3_bucket=s3_bucket,
                             s3_region=s3_region, s3_prefix=s3_prefix)
        try:
            known = registry(definitions or ())
        except DefinitionError as e:
            raise _fail(str(e)) from None
        try:
            client = HubClient(hub, cert=cert, ca=ca)
        except Exception as e:
            raise _fail(f"cannot set up the hub client: {e}") from None
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        with client:
            me = _wait_for_hub(client, hub, retry=not once, stop=stop)
            if me is None:  # stopped while waiting
                return
            if me.role != "cbs":
                raise _fail(f"the certificate {cert} is party {me.oin} with role {me.role}; the "
                            "station needs the CBS certificate")
            try:
                station = Station(settings, client, _clock(now), registry=known)
            except DefinitionError as e:
                raise _fail(str(e)) from None
            if not spiegelrapport:
                station.mirror = None
            metrics_server = None
            if metrics_port is not None:
                from ggk.station.metrics import serve_metrics

                try:
                    metrics_server = serve_metrics(station.metrics, metrics_port, metrics_address)
                except OSError as e:
                    station.close()
                    raise _fail(f"cannot serve metrics on {metrics_address}:{metrics_port}: "
                                f"{e}") from None
                typer.echo(f"metrics at http://{metrics_address}:{metrics_server.server_port}"
                           "/metrics")
            try:
                if once:
                    handled = station.run_once(wait=0)
                    typer.echo(f"handled {handled} messages")
                    return
                typer.echo(f"station {settings.worker_id} running against {hub} as {me.oin}; "
                           "Ctrl-C stops")
                station.run_forever(stop)
            finally:
                if metrics_server is not None:
                    metrics_server.shutdown()
                    metrics_server.server_close()
                station.close()

    @station.command("status")
    def status(
        period: Period, statistic: StatisticOption = None, definitions: DefinitionsOption = None,
        data_dir: DataDir = None, database_url: DatabaseUrl = None, store_dir: StoreDir = None,
        all_gemeenten: Annotated[bool, typer.Option(
            "--all", help="Show every municipality, not only those with activity.")] = False,
        hub: Annotated[str | None, typer.Option("--hub", help="Also show channel health.")]
        = None,
        cert: Annotated[Path | None, typer.Option("--cert")] = None,
        ca: Annotated[Path | None, typer.Option("--ca")] = None,
        now: Now = None,
    ) -> None:
        """Every municipality x dataset of a period: state, last delivery, deadline, totals."""
        from ggk.definitions import DefinitionError, UnknownPeriod
        from ggk.definitions.options import chosen_definition
        from ggk.refdata import register as gemeente_register
        from ggk.station.failures import FailureBook
        from ggk.station.status_view import print_status

        settings = _settings(data_dir, database_url, store_dir)
        try:
            definition = chosen_definition(statistic, definitions, period)
        except (UnknownPeriod, DefinitionError) as e:
            raise _fail(str(e)) from None
        engine = _migrated_engine(settings)
        gemeenten = [(g.code, g.naam) for g in gemeente_register().all()]
        health = None
        if hub is not None:
            if cert is None or ca is None:
                raise _fail("--hub needs --cert and --ca")
            from ggk.client import ClientError, HubClient

            try:
                with HubClient(hub, cert=cert, ca=ca) as client:
                    parties = {p.oin: p for p in client.parties()}
                    health = [(parties.get(m.oin), m) for m in client.monitoring()]
            except ClientError as e:
                typer.echo(f"warning: no channel health from {hub}: {e}", err=True)
        dead = FailureBook(engine, 0, 0).dead_letters()
        print_status(engine, definition, period, _clock(now), gemeenten,
                     show_all=all_gemeenten, health=health, dead=dead)
        engine.dispose()

    @station.command("retry")
    def retry(
        message: Annotated[str | None, typer.Option(
            "--message", help="Id of the dead letter (see `ggk station status`).")] = None,
        all_dead: Annotated[bool, typer.Option("--all-dead", help="Every dead letter.")] = False,
        data_dir: DataDir = None, database_url: DatabaseUrl = None, store_dir: StoreDir = None,
    ) -> None:
        """Release dead letters: the running station tries them again on its next poll."""
        from ggk.station.failures import FailureBook

        if (message is None) == (not all_dead):
            raise _fail("give --message ID or --all-dead")
        engine = _migrated_engine(_settings(data_dir, database_url, store_dir))
        released = FailureBook(engine, 0, 0).release(message)
        engine.dispose()
        if message is not None and not released:
            raise _fail(f"no failed message {message}")
        typer.echo(f"released {released} message(s); the station tries them on its next poll")

    @station.command("extend")
    def extend(
        gemeente: Annotated[str, typer.Option("--gemeente", help="GM code, e.g. GM0363")],
        period: Period,
        until: Annotated[str, typer.Option("--until", help="Last allowed day, YYYY-MM-DD")],
        statistic: StatisticOption = None,
        definitions: DefinitionsOption = None,
        reason: Annotated[str | None, typer.Option("--reason")] = None,
        data_dir: DataDir = None, database_url: DatabaseUrl = None, store_dir: StoreDir = None,
    ) -> None:
        """Grant a municipality an extension: its deadlines of the period move to --until."""
        from ggk.clock import SystemClock
        from ggk.definitions import DefinitionError, UnknownPeriod
        from ggk.definitions.options import chosen_definition
        from ggk.refdata import register as gemeente_register
        from ggk.refdata.interfaces import UnknownGemeente
        from ggk.station.service import grant_extension

        try:
            day = dt.date.fromisoformat(until)
        except ValueError:
            raise _fail(f"--until {until!r} is not a date YYYY-MM-DD") from None
        try:
            statistic = chosen_definition(statistic, definitions, period).statistic
            gemeente_register().get(gemeente)
        except (UnknownPeriod, UnknownGemeente, DefinitionError) as e:
            raise _fail(str(e)) from None
        engine = _migrated_engine(_settings(data_dir, database_url, store_dir))
        grant_extension(engine, SystemClock(), statistic, period, gemeente, day, reason)
        engine.dispose()
        typer.echo(f"extension for {gemeente} {statistic} {period} until {day.isoformat()}; "
                   "the running station tells the municipality at its next poll")

    @station.command("purge")
    def purge(
        data_dir: DataDir = None, database_url: DatabaseUrl = None, store_dir: StoreDir = None,
        retention_days: Annotated[int, typer.Option("--retention-days")] = 30,
        now: Now = None,
        s3_endpoint: S3Endpoint = None, s3_bucket: S3Bucket = None, s3_region: S3Region = None,
        s3_prefix: S3Prefix = "station/",
    ) -> None:
        """Delete raw delivered files older than the retention (accepted Parquet stays)."""
        from ggk.station.purge import purge_raw
        from ggk.station.storage import FileStore

        settings = _settings(data_dir, database_url, store_dir, s3_endpoint_url=s3_endpoint,
                             s3_bucket=s3_bucket, s3_region=s3_region, s3_prefix=s3_prefix)
        engine = _migrated_engine(settings)
        deleted = purge_raw(engine, FileStore.for_settings(settings), _clock(now),
                            retention_days)
        engine.dispose()
        typer.echo(f"deleted {deleted} raw files older than {retention_days} days")
