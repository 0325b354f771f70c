"""ggk.database: the database layer below hub, station and the web applications.

One engine recipe for SQLite and PostgreSQL (`create_engine`, `writing`), one Alembic runner per
package (`Migrations`: its own migrations folder and version table, so several packages share a
database; every env.py is `run_env(metadata)`), the schema check at start (`SchemaNotCurrent`)
and the UTC column type. It knows none of the packages that use it.

    from ggk.database import Migrations, create_engine
    MIGRATIONS = Migrations(Path(__file__).parent / "migrations", "alembic_version_web",
                            component="web", migrate_command="ggk portal migrate")
    engine = create_engine(url)
    MIGRATIONS.migrate(engine)            # (before, after)
    MIGRATIONS.require_current(engine)    # raises SchemaNotCurrent with the command to run
"""

from __future__ import annotations

from ggk.lazy_exports import lazy_exports

_EXPORTS = {
    "Migrations": "ggk.database.migrations",
    "SchemaNotCurrent": "ggk.database.interfaces",
    "UtcDateTime": "ggk.database.engine",
    "as_utc": "ggk.database.engine",
    "create_engine": "ggk.database.engine",
    "run_env": "ggk.database.migrations",
    "writing": "ggk.database.engine",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports("ggk.database", _EXPORTS)
