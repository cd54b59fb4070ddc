"""What the commands share: the console they print to; the --as-of date and the --simulate
help of the dated runs (a deadline check, a reminder run); a file that must exist; and an
expected refusal (an ``AppError``), printed with its code, which exits with status 2."""

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from datetime import date

    from service.core.errors import AppError

console = Console()

SIMULATE_HELP = (
    "Only show what would happen, as of any date (the future too): the same run, rolled back; "
    "nothing is written"
)


def parse_as_of(value: str | None) -> "date | None":
    from datetime import date

    try:
        return date.fromisoformat(value) if value else None
    except ValueError as exc:
        raise typer.BadParameter(f"--as-of must be a date like 2026-11-25, not {value!r}") from exc


def refused(exc: "AppError") -> typer.Exit:
    """Print an expected refusal and give the exit that follows it."""
    console.print(f"[red]{exc.code}[/red]: {exc.detail}")
    return typer.Exit(2)


def require_file(file: Path) -> None:
    if not file.is_file():
        raise typer.BadParameter(f"no such file: {file}")
