"""Alembic, driven from code: the only way the schema is created, in tests too."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from voucher.config import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head",
            on_wait: Callable[[], None] | None = None) -> None:
    """Migrate to ``revision``. On PostgreSQL one upgrade runs at a time (an advisory lock):
    a second ``db upgrade`` (every server deploying at once) waits for the first (calling
    ``on_wait`` when it has to), then finds nothing left to do."""
    from voucher.db import make_engine
    from voucher.locks import single_run

    engine = make_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with single_run(engine, "db upgrade", wait=True, on_wait=on_wait):
            command.upgrade(alembic_config(database_url), revision)
    finally:
        engine.dispose()


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_serves_this_code(current: str | None) -> bool:
    """Whether this code can run on a database at revision ``current``: at its head, or at a
    newer revision that it does not know (a newer release migrated the database first; the
    migrations are expand-then-contract, so the old code still works on it). An older or
    missing revision lacks what the code needs."""
    if current is None:
        return False
    if current == head_revision():
        return True
    known = {script.revision for script in
             ScriptDirectory.from_config(alembic_config("")).walk_revisions()}
    return current not in known
