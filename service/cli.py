"""The `finmatch` command: serve, migrate, seed, synth, match, worker."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from datetime import date

    from service.core.errors import AppError
    from service.loans.schemas import ReminderRunSimulation

app = typer.Typer(help="FinMatch 银企融资对接服务", no_args_is_help=True, add_completion=False)
console = Console()


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


@app.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Bring the database schema up to date (alembic upgrade)."""
    from service.core.settings import get_settings

    run_migrations(revision)
    console.print(f"[green]schema at {revision}[/] ({_safe_url(get_settings().database_url)})")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
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


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    from service.core.settings import get_settings

    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
        # Only these proxies' X-Forwarded-Proto/-For are believed (the pages' cookies are
        # Secure when the proxy says the request came over https).
        forwarded_allow_ips=get_settings().forwarded_allow_ips,
    )


@app.command()
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


@app.command()
def match(
    all_: Annotated[bool, typer.Option("--all", help="Recompute every stored match")] = False,
    on: Annotated[str | None, typer.Option(help="Score as of this date (YYYY-MM-DD)")] = None,
) -> None:
    """Recompute stored matches (after a catalogue or library import)."""
    from datetime import date

    from sqlmodel import Session

    from service.core.database import get_engine
    from service.matching.exceptions import ConfigMissing
    from service.matching.upkeep import full_rematch
    from service.matching.service import rematch_open_needs

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


keys_app = typer.Typer(help="API keys: create, list, revoke", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="office | bank | enterprise")],
    name: Annotated[str, typer.Option(help="What the key is for")],
    bank: Annotated[str | None, typer.Option(help="Bank code (role bank)")] = None,
    enterprise: Annotated[int | None, typer.Option(help="Enterprise id (role enterprise)")] = None,
) -> None:
    """Issue a key; the key itself is printed once, alone on the last line."""
    from sqlmodel import Session

    from service.access.models import Role
    from service.access.service import create_key
    from service.core.database import get_engine
    from service.core.errors import AppError
    from service.main import wire

    try:
        role_value = Role(role)
    except ValueError as exc:
        raise typer.BadParameter("--role must be office, bank or enterprise") from exc
    wire()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            created = create_key(session, role_value, name, bank, enterprise)
        except AppError as exc:
            console.print(f"[red]{exc.detail}[/]")
            raise typer.Exit(1) from exc
    holder = created.bank_code or created.enterprise_id or "office"
    console.print(f"key {created.id} ({created.role}, {holder}), prefix {created.prefix}:")
    print(created.key)


@keys_app.command("list")
def keys_list(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked keys")] = False,
) -> None:
    """Keys by id, prefix, holder and last use (never the keys themselves)."""
    from sqlmodel import Session

    from service.access.service import list_keys
    from service.core.database import get_engine

    with Session(get_engine()) as session:
        keys = list_keys(session, include_revoked=all_)
    table = Table("id", "prefix", "role", "holder", "name", "created", "last used", "revoked")
    for k in keys:
        table.add_row(
            str(k.id),
            k.prefix,
            str(k.role),
            k.bank_code or (str(k.enterprise_id) if k.enterprise_id else "-"),
            k.name,
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "-",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "-",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="Key id or prefix")]) -> None:
    """Revoke a key at once (by id or prefix)."""
    from sqlmodel import Session

    from service.access.service import revoke_key
    from service.core.database import get_engine
    from service.core.errors import AppError
    from service.main import wire

    wire()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            revoked = revoke_key(session, key)
        except AppError as exc:
            console.print(f"[red]{exc.detail}[/]")
            raise typer.Exit(1) from exc
    console.print(f"key {revoked.id} ({revoked.prefix}) revoked at {revoked.revoked_at}")


leads_app = typer.Typer(help="Leads: first-contact deadlines", no_args_is_help=True)
app.add_typer(leads_app, name="leads")


SIMULATE_HELP = (
    "Only show what would happen, as of any date (the future too): the same run, rolled back; "
    "nothing is written"
)


def _as_of(value: str | None) -> "date | None":
    from datetime import date

    try:
        return date.fromisoformat(value) if value else None
    except ValueError as exc:
        raise typer.BadParameter(f"--as-of must be a date like 2026-11-25, not {value!r}") from exc


def _refused(exc: "AppError") -> typer.Exit:
    """Print an expected refusal and give the exit that follows it."""
    console.print(f"[red]{exc.code}[/red]: {exc.detail}")
    return typer.Exit(2)


@leads_app.command("check-deadlines")
def leads_check_deadlines(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="As if today were this date (YYYY-MM-DD, not after today)"),
    ] = None,
    simulate: Annotated[bool, typer.Option("--simulate", help=SIMULATE_HELP)] = False,
) -> None:
    """Flag the leads not contacted by their due date and tell their banks (idempotent; the
    worker does this every 15 minutes). A date after today is refused unless --simulate."""
    from sqlmodel import Session

    from service.core.database import get_engine
    from service.core.errors import AppError
    from service.leads.deadlines import check_deadlines, simulate_deadlines
    from service.main import wire

    day = _as_of(as_of)
    wire()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            if not simulate:
                console.print(check_deadlines(session, day))
                return
            result = simulate_deadlines(session, day)
        except AppError as exc:
            raise _refused(exc) from exc
    console.print(
        f"simulated as of {result.as_of}, nothing written: {result.breached} lead(s) would be "
        f"flagged as not contacted in time, {result.reassigned} offered to another bank"
    )
    if result.sample:
        table = Table("lead", "bank", "enterprise", "need", "due", "offered to")
        for late in result.sample:
            table.add_row(
                str(late.lead_id),
                late.bank_code,
                str(late.enterprise_id),
                str(late.need_id or "-"),
                late.contact_due_date.isoformat(),
                ", ".join(late.offered_to) or "-",
            )
        console.print(table)
        if result.breached > len(result.sample):
            console.print(f"(the first {len(result.sample)} of {result.breached})")


lists_app = typer.Typer(help="Government lists and library releases", no_args_is_help=True)
app.add_typer(lists_app, name="lists")


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

    if not file.is_file():
        raise typer.BadParameter(f"no such file: {file}")
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
            console.print(f"[red]{exc.code}[/red]: {exc.detail}")
            raise typer.Exit(2) from exc
    counts = record.counts
    state = "already imported: nothing changed; " if duplicate else ""
    console.print(
        f"import {record.id} ({state}{record.status}): {record.rows} rows, "
        f"{counts.get('code', 0)} by credit code, {counts.get('auto', 0)} by name, "
        f"{counts.get('review', 0)} to review, {counts.get('new', 0)} new, "
        f"{counts.get('invalid', 0)} invalid"
    )


releases_app = typer.Typer(help="Library releases", no_args_is_help=True)
app.add_typer(releases_app, name="releases")


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


reminders_app = typer.Typer(help="Renewal reminders before loans mature", no_args_is_help=True)
app.add_typer(reminders_app, name="reminders")


@reminders_app.command("run")
def reminders_run(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="As if today were this date (YYYY-MM-DD, not after today)"),
    ] = None,
    simulate: Annotated[bool, typer.Option("--simulate", help=SIMULATE_HELP)] = False,
) -> None:
    """Send the reminders due by the date that were not sent yet (missed ones marked late).
    Idempotent; the worker does this every hour. A date after today is refused unless
    --simulate."""
    from sqlmodel import Session

    from service.core.database import get_engine
    from service.core.errors import AppError
    from service.loans.reminders import run_reminders, simulate_reminders
    from service.main import wire

    day = _as_of(as_of)
    wire()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            if simulate:
                _print_simulated_reminders(simulate_reminders(session, day, trigger="cli"))
                return
            run = run_reminders(session, day, trigger="cli")
        except AppError as exc:
            raise _refused(exc) from exc
    console.print(
        f"run {run.id} as of {run.as_of}: {run.reminders} reminders sent "
        f"({run.late} late), stages {run.stages}"
        + (f"; {run.recomputed} provisional reminder dates made final" if run.recomputed else "")
    )


def _print_simulated_reminders(result: "ReminderRunSimulation") -> None:
    console.print(
        f"simulated as of {result.as_of}, nothing written: {result.reminders} reminders would "
        f"be sent ({result.late} late), stages {','.join(map(str, result.stages))}"
        + (
            f"; {result.recomputed} provisional reminder dates would be made final"
            if result.recomputed
            else ""
        )
    )
    if not result.sample:
        return
    console.print("by bank: " + ", ".join(f"{b} {n}" for b, n in result.by_bank.items()))
    table = Table("loan", "contract", "bank", "enterprise", "maturity", "stage", "remind", "late")
    for r in result.sample:
        table.add_row(
            str(r.loan_id),
            r.contract_no,
            r.bank_code,
            str(r.enterprise_id),
            r.maturity_date.isoformat(),
            f"{r.stage_days}d",
            r.remind_date.isoformat() + (" (provisional)" if r.provisional else ""),
            "late" if r.late else "",
        )
    console.print(table)
    if result.reminders > len(result.sample):
        console.print(f"(the first {len(result.sample)} of {result.reminders})")


loans_app = typer.Typer(help="Loans: bulk import", no_args_is_help=True)
app.add_typer(loans_app, name="loans")


@loans_app.command("import")
def loans_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX, the header in the first row")],
    bank: Annotated[
        str | None, typer.Option(help="Bank code, unless the file has a column")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check only; write nothing")] = False,
) -> None:
    """Import a bank's loans (a re-import updates, never duplicates); prints every rejected
    row with its reasons, and exits 1 if any row was rejected."""
    from sqlmodel import Session

    from service.access.audit import SYSTEM
    from service.core.database import get_engine
    from service.core.errors import AppError
    from service.loans.import_service import import_loans
    from service.main import wire

    if not file.is_file():
        raise typer.BadParameter(f"no such file: {file}")
    wire()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            report = import_loans(session, SYSTEM, file.read_bytes(), file.name, bank, dry_run)
        except AppError as exc:
            console.print(f"[red]{exc.code}[/red]: {exc.detail}")
            raise typer.Exit(2) from exc
    for rejected in report.rejected_rows:
        reasons = "；".join(e.message for e in rejected.errors)
        console.print(f"row {rejected.row} ({rejected.contract_no or '-'}): {reasons}")
    verb = "would be" if dry_run else ""
    console.print(
        f"{report.rows} rows: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.rejected} rejected {verb}".rstrip()
    )
    if report.rejected:
        raise typer.Exit(1)


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run what is due, then exit (for cron or a check)")
    ] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls of an empty queue")] = 2.0,
) -> None:
    """Run queued jobs (rematching after changes …) until stopped (SIGTERM or Ctrl-C).
    Any number of workers may run at once; each job runs once."""
    import signal
    import threading

    from service.core.database import get_engine
    from service.jobs.runner import work
    from service.main import wire

    if poll <= 0:
        raise typer.BadParameter("--poll must be positive")
    wire()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if not once:
        console.print("[green]worker started[/]; waiting for jobs")
    total = work(
        get_engine(),
        poll_seconds=poll,
        once=once,
        stop=stop,
        on_batch=lambda n: console.print(f"ran {n} job(s)"),
    )
    console.print(f"jobs run: {total}")


enterprises_app = typer.Typer(help="The enterprise library: bulk import", no_args_is_help=True)
app.add_typer(enterprises_app, name="enterprises")
projects_app = typer.Typer(help="The project library: bulk import", no_args_is_help=True)
app.add_typer(projects_app, name="projects")
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

    if not file.is_file():
        raise typer.BadParameter(f"no such file: {file}")
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
            console.print(f"[red]{exc.code}[/red]: {exc.detail}")
            raise typer.Exit(2) from exc
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


if __name__ == "__main__":  # pragma: no cover
    app()
