"""The one `ggk` command. Thin: each package contributes its commands through `commands.register`.

Heavy imports (FastAPI, Polars, SQLAlchemy) happen inside the command functions, so that
`ggk --help` stays fast.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="ggk",
    help="Uniform delivery of municipal statistics to CBS: validate, send, receive reports, "
    "decide.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Packages that contribute commands; each has a module `commands` with `register(app)`.
COMMAND_MODULES = (
    "ggk.validation.commands",
    "ggk.testdata.commands",
    "ggk.pki.commands",
    "ggk.hub.commands",
    "ggk.client.commands",
    "ggk.station.commands",
    "ggk.gemeente.commands",
    "ggk.pilot.commands",
    "ggk.evaluation.commands",
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


@app.command()
def version() -> None:
    """Print the ggk version."""
    from ggk import __version__

    typer.echo(__version__)


def main() -> None:
    app()
