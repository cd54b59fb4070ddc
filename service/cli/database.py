"""Commands for the database: ``migrate`` (alembic upgrade; ``run_migrations`` is the same for
tests, benchmarks and scripts) and ``seed`` (the reference data and, with --demo, the demo
library; a second run changes nothing)."""

from typing import Annotated

import typer
from rich.table import Table

from service.cli.common import console


def _alembic_config(database_url: str | None = None):
    from alembic.config import Config

    from service.core.settings import project_root

    root = project_root()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def run_migrations(revision: str = "head", database_url: str | None = None) -> None:
    from alembic import command

    command.upgrade(_alembic_config(database_url), revision)


def migrate(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Bring the database schema up to date (alembic upgrade)."""
    from service.core.settings import get_settings

    run_migrations(revision)
    console.print(f"[green]schema at {revision}[/] ({_safe_url(get_settings().database_url)})")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def seed(
    demo: Annotated[
        bool,
        typer.Option("--demo/--no-demo", help="Also load the demo enterprise and project library"),
    ] = False,
) -> None:
    """Load reference data (and the demo library). A second run changes nothing."""
    from sqlmodel import Session

    from service.core.database import get_engine
    from service.seeding import seed_demo, seed_reference

    with Session(get_engine(), expire_on_commit=False) as session:
        counts = seed_reference(session)
        if demo:
            counts.update(seed_demo(session))
    table = Table("table", "created", "updated", "unchanged", title="finmatch seed")
    tables = sorted({k.split(".")[0] for k in counts})
    for name in tables:
        table.add_row(
            name, *(str(counts.get(f"{name}.{s}", 0)) for s in ("created", "updated", "unchanged"))
        )
    console.print(table)
