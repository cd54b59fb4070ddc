"""The ``lists`` and ``releases`` commands: import a government list (every name linked to the
library, with a progress bar; --commit applies it, the same file again changes nothing) and
publish a numbered release of the enterprise and project libraries."""

from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import console, refused, require_file

lists_app = typer.Typer(help="Government lists and library releases", no_args_is_help=True)


@lists_app.command("import")
def lists_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX; a name column, optionally more")],
    qualification_type: Annotated[
        str, typer.Option("--type", help="little_giant, srdi_sme, high_tech, tech_sme, …")
    ],
    title: Annotated[str | None, typer.Option(help="The list's title")] = None,
    source: Annotated[str | None, typer.Option(help="Where it was published")] = None,
    batch: Annotated[str | None, typer.Option(help="Batch")] = None,
    issued: Annotated[str | None, typer.Option(help="Recognition date (YYYY-MM-DD)")] = None,
    commit: Annotated[bool, typer.Option("--commit", help="Apply it after the preview")] = False,
) -> None:
    """Import a list: link every name to the library (shown with a progress bar), print
    what will link, what needs review and what is new; with --commit apply it. The same file
    again changes nothing."""
    from datetime import date

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
    from sqlmodel import Session

    from service.access.audit import SYSTEM
    from service.core.database import get_engine
    from service.core.errors import AppError
    from service.lists.service import commit_import, preview_import
    from service.main import wire

    require_file(file)
    try:
        issued_date = date.fromisoformat(issued) if issued else None
    except ValueError as exc:
        raise typer.BadParameter(
            f"--issued must be a date like 2026-07-01, not {issued!r}"
        ) from exc
    wire()
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with (
        Session(get_engine(), expire_on_commit=False) as session,
        Progress(*columns, console=console, transient=True) as bar,
    ):
        task = bar.add_task("linking", total=None)
        try:
            record, duplicate = preview_import(
                session,
                SYSTEM,
                file.read_bytes(),
                file.name,
                qualification_type,
                title,
                source,
                batch,
                issued_date,
                None,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
            if commit:
                record = commit_import(session, SYSTEM, record.id)  # type: ignore[arg-type]
        except AppError as exc:
            raise refused(exc) from exc
    counts = record.counts
    state = "already imported: nothing changed; " if duplicate else ""
    console.print(
        f"import {record.id} ({state}{record.status}): {record.rows} rows, "
        f"{counts.get('code', 0)} by credit code, {counts.get('auto', 0)} by name, "
        f"{counts.get('review', 0)} to review, {counts.get('new', 0)} new, "
        f"{counts.get('invalid', 0)} invalid"
    )


releases_app = typer.Typer(help="Library releases", no_args_is_help=True)


@releases_app.command("publish")
def releases_publish(note: Annotated[str | None, typer.Option(help="A note")] = None) -> None:
    """Publish a numbered release of the enterprise and project libraries."""
    from sqlmodel import Session

    from service.access.audit import SYSTEM
    from service.core.database import get_engine
    from service.lists.publishing import publish
    from service.main import wire

    wire()
    with Session(get_engine(), expire_on_commit=False) as session:
        release = publish(session, SYSTEM, note)
        console.print(
            f"release {release.number}: {release.enterprises} enterprises "
            f"({release.shared_enterprises} shared with banks), {release.projects} projects, "
            f"checksum {release.checksum}"
        )
