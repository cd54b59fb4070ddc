"""Commands for the enterprise and project libraries: ``synth`` generates a realistic synthetic
library (for benchmarks) into the database or JSON files; ``enterprises import`` and ``projects
import`` preview a spreadsheet (counts by action, every rejected row with its reasons and every
warning, each naming the spreadsheet row) and with --commit apply the good rows. An import exits
with status 1 when a row was rejected, 2 when the file cannot be read."""

from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import console, refused, require_file


def synth(
    enterprises: Annotated[int, typer.Option(help="Enterprises to generate")] = 1000,
    products: Annotated[int, typer.Option(help="Products to generate")] = 0,
    projects: Annotated[
        int | None, typer.Option(help="Projects (default: a share of the enterprises)")
    ] = None,
    seed_value: Annotated[int, typer.Option("--seed", help="Random seed")] = 1,
    out: Annotated[
        Path | None,
        typer.Option(help="Write JSON files to this directory instead of loading the database"),
    ] = None,
) -> None:
    """Generate a realistic synthetic library (for benchmarks), into the database or files."""
    from service.core.settings import get_settings
    from service.synth import NotSeeded, run_synth

    if enterprises < 0 or products < 0 or (projects is not None and projects < 0):
        raise typer.BadParameter("counts must not be negative")
    try:
        result = run_synth(
            get_settings().database_url, enterprises, products, projects, seed_value, out
        )
    except NotSeeded as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    console.print(result)


enterprises_app = typer.Typer(help="The enterprise library: bulk import", no_args_is_help=True)
projects_app = typer.Typer(help="The project library: bulk import", no_args_is_help=True)
_ACTIONS = (("create", "新增"), ("update", "更新"), ("unchanged", "不变"), ("rejected", "拒绝"))


def _library_import(kind: str, file: Path, commit: bool) -> None:
    """Preview a library file (and commit it): print the counts, every rejected row with its
    reasons and every warning; exit 1 when a row was rejected."""
    from collections.abc import Iterator

    from rich.progress import Progress, SpinnerColumn, TextColumn
    from sqlmodel import Session

    from service.access.audit import SYSTEM
    from service.core.database import get_engine
    from service.core.errors import AppError
    from service.core.pagination import PageParams
    from service.enterprises import import_service
    from service.enterprises.models import ImportKind, RowAction
    from service.enterprises.schemas import ImportRowPublic as Row
    from service.main import wire

    require_file(file)
    wire()
    library = ImportKind(kind)

    def rows_of(session: Session, import_id: int, action: RowAction | None) -> Iterator[Row]:
        cursor = None
        while True:
            page = PageParams(limit=500, cursor=cursor)
            found = import_service.list_rows(session, SYSTEM, library, import_id, page, action)
            yield from found.items
            if found.next_cursor is None:
                return
            cursor = found.next_cursor

    with (
        Session(get_engine(), expire_on_commit=False) as session,
        Progress(
            SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
        ) as bar,
    ):
        task = bar.add_task("checking rows", total=None)
        try:
            record = import_service.preview_import(
                session,
                SYSTEM,
                library,
                file.read_bytes(),
                file.name,
                progress=lambda done: bar.update(task, description=f"checked {done:,} rows"),
            )
            assert record.id is not None
            problems = list(rows_of(session, record.id, RowAction.rejected))
            if record.counts.get("warnings"):
                problems += [
                    row
                    for row in rows_of(session, record.id, None)
                    if row.warnings and not row.errors
                ]
            if commit:
                bar.update(task, description="committing")
                record = import_service.commit_import(
                    session,
                    SYSTEM,
                    library,
                    record.id,
                    progress=lambda done: bar.update(task, description=f"applied {done:,} rows"),
                )
        except AppError as exc:
            raise refused(exc) from exc
    for row in sorted(problems, key=lambda r: r.row):
        for problem in [*row.errors, *row.warnings]:
            mark = "[red]rejected[/red]" if row.errors else "[yellow]warning[/yellow]"
            console.print(f"{mark} {problem.field} {problem.code}: {problem.message}")
    counts = record.applied if commit and record.applied is not None else record.counts
    summary = ", ".join(f"{counts.get(a, 0)} {a} ({label})" for a, label in _ACTIONS)
    state = "committed" if commit else "preview only, nothing applied (add --commit)"
    console.print(
        f"import {record.id} ({state}): {record.rows} rows: {summary}; "
        f"{counts.get('warnings', 0)} with warnings"
    )
    if counts.get("rejected"):
        raise typer.Exit(1)


@enterprises_app.command("import")
def enterprises_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX, the header in the first row")],
    commit: Annotated[bool, typer.Option("--commit", help="Apply it after the preview")] = False,
) -> None:
    """Import enterprises by credit code (new ones created, known ones updated field by
    field, a blank cell changing nothing): prints the preview, and with --commit applies the
    good rows. A re-import of the same file changes nothing."""
    _library_import("enterprise", file, commit)


@projects_app.command("import")
def projects_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX, the header in the first row")],
    commit: Annotated[bool, typer.Option("--commit", help="Apply it after the preview")] = False,
) -> None:
    """Import projects by unit credit code and project name: prints the preview, and with
    --commit applies the good rows."""
    _library_import("project", file, commit)
