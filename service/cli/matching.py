"""The ``match`` command: recompute every stored match (after a catalogue or library import),
as of a date if given, then the open financing needs' matches."""

from typing import Annotated

import typer

from service.cli.common import console


def match(
    all_: Annotated[bool, typer.Option("--all", help="Recompute every stored match")] = False,
    on: Annotated[str | None, typer.Option(help="Score as of this date (YYYY-MM-DD)")] = None,
) -> None:
    """Recompute stored matches (after a catalogue or library import)."""
    from datetime import date

    from sqlmodel import Session

    from service.core.database import get_engine
    from service.matching.exceptions import ConfigMissing
    from service.matching.service import rematch_open_needs
    from service.matching.upkeep import full_rematch

    if not all_:
        raise typer.BadParameter("say --all to recompute every stored match")
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError as exc:
        raise typer.BadParameter(f"--on must be a date like 2026-11-25, not {on!r}") from exc
    try:
        stats = full_rematch(get_engine(), on=day, progress=True)
    except ConfigMissing as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    with Session(get_engine(), expire_on_commit=False) as session:
        stats["needs"] = rematch_open_needs(session)
        session.commit()
    console.print(stats)
