"""The ``leads`` commands: ``check-deadlines`` flags the leads not contacted by their due date
and tells their banks (the worker does it every 15 minutes), as of a date not after today, or
--simulate for any date, rolled back and told."""

from typing import Annotated

import typer
from rich.table import Table

from service.cli.common import SIMULATE_HELP, console, parse_as_of, refused

leads_app = typer.Typer(help="Leads: first-contact deadlines", no_args_is_help=True)


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

    day = parse_as_of(as_of)
    wire()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            if not simulate:
                console.print(check_deadlines(session, day))
                return
            result = simulate_deadlines(session, day)
        except AppError as exc:
            raise refused(exc) from exc
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
