"""Alembic environment: the URL comes from the application's settings (DATABASE_URL)."""

from logging.config import fileConfig
from typing import Any

from alembic import context

import service.models  # noqa: F401  (registers every table on the metadata)
from service.core.database import make_engine
from service.core.models import UTCDateTime, metadata
from service.core.settings import get_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def include_object(item: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    """Indexes marked ``info={"postgresql_only": True}`` (GIN) exist only on PostgreSQL."""
    if type_ == "index" and not reflected and item.info.get("postgresql_only"):
        return context.get_context().dialect.name == "postgresql"
    return True


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        render_item=render_item,
        include_object=include_object,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection
        if sqlite and raw is not None:
            # A batch operation copies a table and drops the old one, which SQLite refuses
            # while other rows refer to it and foreign keys are on: off for the migration (set
            # outside any transaction, where SQLite honours it), and checked afterwards.
            raw.execute("PRAGMA foreign_keys=OFF")
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite and raw is not None:
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            raw.execute("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"the migration left rows with broken references: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
