"""What the internal web applications' commands (`ggk dashboard`, `ggk console`) share: their
data folder and database options, `user add` for the operator's own staff, the `serve` options
(address, HTTPS or a TLS proxy, e-mail) and serving an app in the foreground. Each command module
says only what differs: its name, role, port and what else it reads (hub, station)."""

# no `from __future__ import annotations`: `add_user_command` builds its command's annotations
# from its arguments, and Typer reads them at registration

from pathlib import Path
from typing import Annotated, Any

import typer

Host = Annotated[str, typer.Option("--host")]
Cert = Annotated[Path | None, typer.Option(
    "--cert", help="Server PEM (certificate + key) for HTTPS.")]
BehindProxy = Annotated[bool, typer.Option(
    "--behind-proxy", help="Plain HTTP for a TLS-terminating proxy on 127.0.0.1.")]
MailFrom = Annotated[str, typer.Option("--mail-from")]


def fail(message: str) -> typer.Exit:
    """The exit (code 2) for an operator's mistake, after saying what it is."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def data_dir_option(title: str) -> Any:
    """`--data-dir` of the application `title` ("Dashboard")."""
    return Annotated[Path, typer.Option("--data-dir", help=f"{title} data folder.")]


def database_url_option(name: str) -> Any:
    """`--database-url` (envvar GGK_<NAME>_DATABASE_URL) of the application's own database."""
    return Annotated[str | None, typer.Option(
        "--database-url", envvar=f"GGK_{name.upper()}_DATABASE_URL",
        help=f"SQLAlchemy URL of the {name}'s own database (default SQLite in --data-dir).")]


def smtp_option(name: str) -> Any:
    """`--smtp host:port` (envvar GGK_<NAME>_SMTP)."""
    return Annotated[str | None, typer.Option(
        "--smtp", envvar=f"GGK_{name.upper()}_SMTP", help="SMTP server host:port for e-mail.")]


def mailer(smtp: str | None, mail_from: str) -> dict[str, Any]:
    """The settings' `mailer` for `--smtp host[:port]` (port 25 unless given); none without."""
    from ggk.web.mail import SmtpMailer

    if not smtp:
        return {}
    host, _, port = smtp.partition(":")
    if port and not port.isdigit():
        raise fail(f"--smtp {smtp}: the port after ':' must be a number")
    return {"mailer": SmtpMailer(host, int(port or 25), sender=mail_from)}


def require_tls_or_proxy(cert: Path | None, behind_proxy: bool) -> None:
    if cert is None and not behind_proxy:
        raise fail("give --cert (HTTPS) or --behind-proxy (plain HTTP behind a TLS proxy)")


def serve_foreground(app: Any, *, host: str, port: int, cert: Path | None,
                     behind_proxy: bool) -> None:
    """Run `app` with uvicorn until Ctrl-C (HTTPS with `cert`, else plain HTTP for a proxy)."""
    import uvicorn

    from ggk.web.server import uvicorn_config

    uvicorn.Server(uvicorn_config(app, host=host, port=port, cert=cert, log_level="info",
                                  behind_proxy=behind_proxy)).run()


def add_user_command(user_app: typer.Typer, name: str, role: str, description: str) -> None:
    """`ggk <name> user add`: an account of the operator's own staff with internal `role`, in
    the application's database (SQLite `<data-dir>/<name>.db` unless --database-url)."""
    data_dir_type = data_dir_option(name.capitalize())
    database_url_type = database_url_option(name)

    def user_add(
        email: Annotated[str, typer.Option("--email")],
        name_: Annotated[str, typer.Option("--name")],
        password: Annotated[str | None, typer.Option(
            "--password", envvar=f"GGK_{name.upper()}_PASSWORD",
            help="Local password (12+ characters); leave out for OIDC-only accounts.")] = None,
        data_dir: data_dir_type = Path(f"{name}-data"),  # type: ignore[valid-type]
        database_url: database_url_type = None,  # type: ignore[valid-type]
    ) -> None:
        from ggk.web.app import create_internal_account
        from ggk.web.interfaces import AccountError

        try:
            user = create_internal_account(data_dir, database_url, name, email, name_, password,
                                           role)
        except AccountError as e:
            raise fail(str(e)) from e
        typer.echo(f"account {user.email} created ({role})")

    user_add.__doc__ = f"{description} (internal role {role})."
    user_app.command("add")(user_add)
