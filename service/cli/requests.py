"""The ``requests`` commands: ``check-overdue`` escalates the requests (诉求) still with their
handler after their due date, once per deadline, and reminds bank handlers (the worker does
it every 15 minutes), as of a date not after today."""

from typing import Annotated

import typer

from service.cli.common import console, parse_as_of, refused

requests_app = typer.Typer(help="Requests (诉求): overdue escalation", no_args_is_help=True)


@requests_app.command("check-overdue")
def requests_check_overdue(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="As if today were this date (YYYY-MM-DD, not after today)"),
    ] = None,
) -> None:
    """Escalate the requests past their due date (each once per deadline; idempotent; the
    worker does this every 15 minutes). A date after today is refused."""
    from sqlmodel import Session

    from service.appeals.escalation import check_overdue
    from service.core.database import get_engine
    from service.core.errors import AppError
    from service.main import wire

    day = parse_as_of(as_of)
    wire()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            result = check_overdue(session, day)
        except AppError as exc:
            raise refused(exc) from exc
    console.print(f"{result['escalated']} overdue request(s) escalated")
