"""`ggk pki init|issue|revoke|crl`: a local TEST CA, party/server certificates and its CRL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

CaDir = Annotated[Path, typer.Option("--dir", help="Folder of the CA (ca.pem, ca-key.pem).")]


def register(app: typer.Typer) -> None:
    pki = typer.Typer(help="Local TEST certificate authority (never for production).",
                      no_args_is_help=True)
    app.add_typer(pki, name="pki")

    @pki.command("init")
    def init(dir: CaDir, days: Annotated[int, typer.Option(help="Validity in days.")] = 3650
             ) -> None:
        """Create a TEST CA (ca.pem, ca-key.pem) in --dir."""
        from ggk.pki import PkiError, init_ca

        try:
            ca = init_ca(dir, days=days)
        except PkiError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from e
        typer.echo(f"TEST CA written: {ca.cert_path} (key {ca.key_path}); never use in production")

    @pki.command("issue")
    def issue(
        out: Annotated[Path, typer.Option("--out", help="PEM file to write (cert + key).")],
        dir: CaDir = Path("."),
        oin: Annotated[str | None, typer.Option(help="Party OIN (20 digits; test 00000099…).")
                       ] = None,
        name: Annotated[str | None, typer.Option(help="Organisation name (subject O).")] = None,
        role: Annotated[str | None, typer.Option(help="Hint: gemeente, cbs or operator.")] = None,
        gemeentecode: Annotated[str | None, typer.Option(help="e.g. GM0363.")] = None,
        days: Annotated[int | None, typer.Option(help="Validity (party 365, server 825).")
                        ] = None,
        server: Annotated[bool, typer.Option("--server", help="A TLS server certificate.")
                          ] = False,
        host: Annotated[list[str] | None, typer.Option(help="Server host (repeatable).")] = None,
    ) -> None:
        """Issue a party certificate (--oin, --name) or a server certificate (--server --host)."""
        from ggk.pki import PkiError, issue_party_cert, issue_server_cert

        try:
            if server:
                pem = issue_server_cert(dir, host or ["127.0.0.1"], days=days or 825)
            else:
                if not oin or not name:
                    raise PkiError("a party certificate needs --oin and --name (or use --server)")
                if role is None and gemeentecode:
                    role = "gemeente"
                pem = issue_party_cert(dir, oin, name, role=role,  # type: ignore[arg-type]
                                       gemeentecode=gemeentecode, days=days or 365)
        except PkiError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from e
        out.parent.mkdir(parents=True, exist_ok=True)
        out.touch(mode=0o600)
        out.write_bytes(pem)
        typer.echo(f"written: {out}")

    @pki.command("revoke")
    def revoke_command(
        cert: Annotated[Path, typer.Argument(help="The certificate to revoke (PEM).")],
        dir: CaDir = Path("."),
        days: Annotated[int, typer.Option(help="Validity of the new CRL in days.")] = 7,
    ) -> None:
        """Revoke a certificate of this CA and write the CRL (crl.pem) the hub reads (--crl)."""
        from ggk.pki import PkiError, revoke

        try:
            path = revoke(dir, cert, days=days)
        except (PkiError, OSError) as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from e
        typer.echo(f"revoked; CRL written: {path}")

    @pki.command("crl")
    def crl_command(
        dir: CaDir = Path("."),
        days: Annotated[int, typer.Option(help="Validity of the CRL in days.")] = 7,
    ) -> None:
        """Write a fresh CRL (crl.pem) of every certificate revoked so far (publish it before
        the previous one's next update)."""
        from ggk.pki import PkiError, write_crl

        try:
            path = write_crl(dir, days=days)
        except (PkiError, OSError) as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from e
        typer.echo(f"CRL written: {path}")
