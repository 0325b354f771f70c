"""`ggk hub serve|migrate|audit` and `ggk party add|list|revoke|remove` (operators; English)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Embedded: SQLite file and file store in here.")]
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", envvar="GGK_HUB_DATABASE_URL",
    help="Production: postgresql+psycopg://user@host/db")]
StoreDir = Annotated[Path | None, typer.Option(
    "--store-dir", help="File store (default DATA_DIR/store).")]


def _settings(data_dir: Path | None, database_url: str | None, store_dir: Path | None,
              **extra: Any) -> Any:
    from ggk.hub.settings import HubSettings

    if data_dir is None and database_url is None:
        typer.echo("error: give --data-dir (embedded SQLite) or --database-url", err=True)
        raise typer.Exit(2)
    return HubSettings(data_dir=data_dir, database_url=database_url, store_dir=store_dir, **extra)


def _engine(settings: Any) -> Any:
    from ggk.hub.database import create_engine

    return create_engine(settings.resolved_database_url())


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def register(app: typer.Typer) -> None:
    hub = typer.Typer(help="The data hub: serve, migrate, audit.", no_args_is_help=True)
    party = typer.Typer(help="Parties of the hub (direct on its database).", no_args_is_help=True)
    app.add_typer(hub, name="hub")
    app.add_typer(party, name="party")

    @hub.command("migrate")
    def migrate(data_dir: DataDir = None, database_url: DatabaseUrl = None,
                store_dir: StoreDir = None) -> None:
        """Create or upgrade the hub schema (and the hub's receipt key in the store)."""
        from ggk.hub.database import migrate as run_migrations
        from ggk.hub.receipts import load_or_create_hub_key

        settings = _settings(data_dir, database_url, store_dir)
        before, after = run_migrations(_engine(settings))
        typer.echo(f"hub schema: {before or 'empty'} -> {after}")
        if data_dir is not None or store_dir is not None:
            key = load_or_create_hub_key(settings.hub_key_path)
            typer.echo(f"hub key {key.key_id} in {settings.hub_key_path}")

    @hub.command("serve")
    def serve(
        ca: Annotated[Path, typer.Option(help="CA certificate that issued party certificates.")],
        cert: Annotated[Path | None, typer.Option(
            help="The hub's TLS certificate + key (PEM); not with --unix-socket.")] = None,
        data_dir: DataDir = None,
        database_url: DatabaseUrl = None,
        store_dir: StoreDir = None,
        host: Annotated[str, typer.Option()] = "127.0.0.1",
        port: Annotated[int, typer.Option()] = 8443,
        trust_proxy_header: Annotated[str | None, typer.Option(
            help="Accept the client certificate (URL-encoded PEM) from this header, e.g. "
                 "X-SSL-Client-Cert, only on connections that present a --trusted-proxy-cert.")
        ] = None,
        trusted_proxy_cert: Annotated[list[Path] | None, typer.Option(
            help="The proxy's own client certificate (PEM), pinned (repeatable).")] = None,
        trusted_proxy: Annotated[list[str] | None, typer.Option(
            help="Proxy address or network (repeatable; optional extra restriction).")] = None,
        unix_socket: Annotated[Path | None, typer.Option(
            help="Serve only on this unix socket (0600, no TLS) for a proxy on this machine; "
                 "needs --trust-proxy-header.")] = None,
        crl: Annotated[str | None, typer.Option(
            help="Revocation list of the party CA: file or http(s) URL (PEM or DER), "
                 "re-read every --crl-refresh seconds.")] = None,
        crl_refresh: Annotated[float, typer.Option(help="Seconds between CRL reads.")] = 300.0,
        message_retention: Annotated[int | None, typer.Option(
            help="Seconds after acceptance until a finished message's row is deleted.")] = None,
        max_message_bytes: Annotated[int | None, typer.Option(
            help="Default per-party limit on a message's attachments.")] = None,
        min_free_bytes: Annotated[int | None, typer.Option(
            help="Free-disk guard (507 below it).")] = None,
        message_ttl: Annotated[int | None, typer.Option(
            help="Seconds until unacknowledged messages expire.")] = None,
        log_level: Annotated[str, typer.Option()] = "info",
        s3_endpoint: Annotated[str | None, typer.Option(
            envvar="GGK_HUB_S3_ENDPOINT",
            help="S3-compatible object storage for attachments (e.g. http://s3.internal:8333); "
                 "credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.")] = None,
        s3_bucket: Annotated[str | None, typer.Option(
            envvar="GGK_HUB_S3_BUCKET", help="Bucket for attachments (implies several nodes).")
        ] = None,
        s3_region: Annotated[str | None, typer.Option(envvar="GGK_HUB_S3_REGION")] = None,
        multi_node: Annotated[bool, typer.Option(
            "--multi-node", help="Several hub nodes: refuse to start without --receipt-key.")
        ] = False,
        receipt_key: Annotated[Path | None, typer.Option(
            envvar="GGK_HUB_RECEIPT_KEY",
            help="Ed25519 private key (PEM) that signs receipts; the same on every node.")
        ] = None,
        receipt_previous_key: Annotated[list[Path] | None, typer.Option(
            help="An earlier receipt key (PEM, public or private), still published in the "
                 "JWKS during a rotation (repeatable).")] = None,
    ) -> None:
        """Serve the hub over HTTPS with required client certificates (TLS 1.2+)."""
        import uvicorn

        from ggk.hub.app import create_app
        from ggk.hub.interfaces import HubError, SchemaNotCurrent
        from ggk.hub.server import keep_freed_memory, uvicorn_config
        from ggk.hub.server import unix_socket as server_unix_socket
        from ggk.pki import fingerprint

        if unix_socket is not None and not trust_proxy_header:
            raise _fail("--unix-socket needs --trust-proxy-header (the proxy names the party)")
        if unix_socket is None and cert is None:
            raise _fail("give --cert (the hub's TLS certificate), or --unix-socket")
        if trust_proxy_header and not trusted_proxy_cert and unix_socket is None:
            raise _fail("--trust-proxy-header needs the proxy's own certificate: "
                        "--trusted-proxy-cert PEM")
        try:
            pinned = tuple(fingerprint(p) for p in trusted_proxy_cert or ())
        except (OSError, ValueError) as e:
            raise _fail(f"cannot read --trusted-proxy-cert: {e}") from e
        limits = {k: v for k, v in {"max_message_bytes": max_message_bytes,
                                    "min_free_bytes": min_free_bytes,
                                    "message_ttl_seconds": message_ttl,
                                    "message_retention_seconds": message_retention}.items()
                  if v is not None}
        settings = _settings(data_dir, database_url, store_dir, ca_file=ca, server_cert=cert,
                             host=host, port=port, trust_proxy_header=trust_proxy_header,
                             trusted_proxies=tuple(trusted_proxy or ()),
                             s3_endpoint_url=s3_endpoint, s3_bucket=s3_bucket,
                             s3_region=s3_region, multi_node=multi_node,
                             receipt_key_file=receipt_key,
                             receipt_previous_key_files=tuple(receipt_previous_key or ()),
                             trusted_proxy_fingerprints=pinned, crl_source=crl,
                             crl_refresh_seconds=crl_refresh, **limits)
        try:
            app_ = create_app(settings)
        except (SchemaNotCurrent, HubError, ValueError, OSError) as e:  # HubError: e.g. --crl
            raise _fail(str(e)) from e
        keep_freed_memory()
        if unix_socket is not None:
            typer.echo(f"ggk hub on unix socket {unix_socket} (behind a proxy)", err=True)
            uvicorn.Server(uvicorn_config(app_, settings, log_level=log_level, tls=False)).run(
                sockets=[server_unix_socket(unix_socket)])
            return
        typer.echo(f"ggk hub on https://{host}:{port} (client certificates required)", err=True)
        uvicorn.Server(uvicorn_config(app_, settings, log_level=log_level)).run()

    @hub.command("audit")
    def audit_command(
        message: Annotated[str | None, typer.Option("--message", help="Message id.")] = None,
        data_dir: DataDir = None, database_url: DatabaseUrl = None,
        limit: Annotated[int, typer.Option("--limit")] = 1000,
    ) -> None:
        """Print the audit log (of one message)."""
        import json

        from ggk.hub import audit

        settings = _settings(data_dir, database_url, None)
        with _engine(settings).connect() as conn:
            entries = audit.entries(conn, message, limit=limit)
        if message and not entries:
            raise _fail(f"no audit entries for message {message}")
        from ggk.localtime import shown_iso

        for e in entries:
            typer.echo(f"{shown_iso(e.at)}  {e.actor:<20}  {e.action:<24}  "
                       f"{e.message_id or '-':<36}  {json.dumps(e.detail, sort_keys=True)}")

    @party.command("add")
    def party_add(
        cert: Annotated[Path, typer.Option(help="The party's certificate (PEM).")],
        role: Annotated[str | None, typer.Option(help="gemeente, cbs or operator.")] = None,
        name: Annotated[str | None, typer.Option(help="Default: the certificate's O.")] = None,
        gemeentecode: Annotated[str | None, typer.Option()] = None,
        max_message_bytes: Annotated[int | None, typer.Option()] = None,
        replace: Annotated[bool, typer.Option(
            help="New certificate for a known OIN (keeps its role and gemeentecode).")] = False,
        change_role: Annotated[bool, typer.Option(
            help="With --replace: take role/gemeentecode from the options or the new "
                 "certificate (audited as party-role-changed).")] = False,
        overlap_days: Annotated[float, typer.Option(
            help="With --replace: the old certificate stays valid this many days "
                 "(renewal window; never beyond its own expiry).")] = 0,
        allow_expired: Annotated[bool, typer.Option(
            help="Register an expired certificate anyway (it gets no connection).")] = False,
        data_dir: DataDir = None,
        database_url: DatabaseUrl = None,
    ) -> None:
        """Register a party from its certificate (OIN and name are read from it)."""
        from ggk.hub.interfaces import PartyError
        from ggk.hub.parties import PartyRegistry

        settings = _settings(data_dir, database_url, None)
        try:
            p = PartyRegistry(_engine(settings)).add(
                cert, role=role, name=name, gemeentecode=gemeentecode,
                max_message_bytes=max_message_bytes, replace=replace, change_role=change_role,
                allow_expired=allow_expired, overlap_seconds=round(overlap_days * 86400))
        except PartyError as e:
            raise _fail(str(e)) from e
        code = f" {p.gemeentecode}" if p.gemeentecode else ""
        typer.echo(f"registered {p.oin} {p.name} ({p.role}{code})")
        if p.previous_cert_valid_until is not None:
            typer.echo(f"the previous certificate stays valid until "
                       f"{p.previous_cert_valid_until:%Y-%m-%d %H:%M} UTC")
        from ggk.hub.database import utcnow

        if p.cert_not_after is not None and p.cert_not_after < utcnow():
            typer.echo(f"warning: this certificate expired on {p.cert_not_after:%Y-%m-%d}; "
                       "it gets no connection until it is replaced", err=True)

    @party.command("list")
    def party_list(data_dir: DataDir = None,
                   database_url: DatabaseUrl = None) -> None:
        """List parties."""
        from rich.console import Console
        from rich.table import Table

        from ggk.hub.parties import PartyRegistry

        table = Table("OIN", "name", "role", "gemeentecode", "active", "certificate (sha256)")
        for p in PartyRegistry(_engine(_settings(data_dir, database_url, None))).list():
            table.add_row(p.oin, p.name, p.role, p.gemeentecode or "",
                          "yes" if p.active else "REVOKED", p.cert_fingerprint[:16] + "…")
        import sys

        Console(width=None if sys.stdout.isatty() else 200).print(table)

    @party.command("remove")
    def party_remove(oin: Annotated[str, typer.Argument(help="OIN of the party.")],
                     data_dir: DataDir = None,
                     database_url: DatabaseUrl = None) -> None:
        """Delete a party (audited; its messages and the audit log stay)."""
        from ggk.hub.interfaces import PartyError
        from ggk.hub.parties import PartyRegistry

        try:
            PartyRegistry(_engine(_settings(data_dir, database_url, None))).remove(oin)
        except PartyError as e:
            raise _fail(str(e)) from e
        typer.echo(f"removed {oin}")

    @party.command("revoke")
    def party_revoke(oin: Annotated[str, typer.Argument(help="OIN of the party.")],
                     data_dir: DataDir = None,
                     database_url: DatabaseUrl = None) -> None:
        """Revoke a party: its certificate gets 403 from now on."""
        from ggk.hub.interfaces import PartyError
        from ggk.hub.parties import PartyRegistry

        try:
            p = PartyRegistry(_engine(_settings(data_dir, database_url, None))).revoke(oin)
        except PartyError as e:
            raise _fail(str(e)) from e
        typer.echo(f"revoked {p.oin} {p.name}")
