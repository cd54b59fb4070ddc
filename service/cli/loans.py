"""The ``reminders`` and ``loans`` commands: send the renewal reminders due by a date not after
today (the worker does it every hour; --simulate for any date, rolled back and told) and import
a bank's loans from a spreadsheet (a re-import updates, never duplicates; every rejected row is
printed with its reasons, and the exit status is 1 if a row was rejected)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from service.cli.common import SIMULATE_HELP, console, parse_as_of, refused, require_file

if TYPE_CHECKING:
    from service.loans.schemas import ReminderRunSimulation

reminders_app = typer.Typer(help="Renewal reminders before loans mature", no_args_is_help=True)


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

    day = parse_as_of(as_of)
    wire()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            if simulate:
                _print_simulated_reminders(simulate_reminders(session, day, trigger="cli"))
                return
            run = run_reminders(session, day, trigger="cli")
        except AppError as exc:
            raise refused(exc) from exc
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

    require_file(file)
    wire()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            report = import_loans(session, SYSTEM, file.read_bytes(), file.name, bank, dry_run)
        except AppError as exc:
            raise refused(exc) from exc
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
