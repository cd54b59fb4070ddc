"""The ``users`` command: invite a deployment's first people (the office's first account, a
bank's administrator) before anyone can sign in to invite the others. Prints the one-time
link's path; the invitee opens it under the service's address and chooses a password. A
refusal exits with status 1."""

from typing import Annotated

import typer

from service.cli.common import console

users_app = typer.Typer(help="People's accounts: invite", no_args_is_help=True)


@users_app.command("invite")
def users_invite(
    role: Annotated[str, typer.Option(help="office | bank | enterprise")],
    login: Annotated[str, typer.Option(help="E-mail or mobile number they sign in with")],
    name: Annotated[str, typer.Option(help="Their name, as the pages show it")],
    bank: Annotated[str | None, typer.Option(help="Bank code (role bank)")] = None,
    bank_role: Annotated[str | None, typer.Option(help="admin | manager (role bank)")] = None,
    enterprise: Annotated[int | None, typer.Option(help="Enterprise id (role enterprise)")] = None,
) -> None:
    """Invite a person; the link's path is printed once, alone on the last line."""
    from sqlmodel import Session

    from service.access.audit import SYSTEM
    from service.access.invitations import INVITE_VALIDITY, invite
    from service.access.models import BankRole, Role
    from service.access.schemas import InvitationRequest
    from service.core.database import get_engine
    from service.core.errors import AppError
    from service.main import wire

    try:
        data = InvitationRequest(
            login=login,
            display_name=name,
            role=Role(role),
            bank_role=BankRole(bank_role) if bank_role else None,
            bank_code=bank,
            enterprise_id=enterprise,
        )
    except ValueError as exc:
        raise typer.BadParameter(
            "--role must be office, bank or enterprise; --bank-role admin or manager"
        ) from exc
    wire()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            created = invite(session, SYSTEM, data)
        except AppError as exc:
            console.print(f"[red]{exc.detail}[/]")
            raise typer.Exit(1) from exc
    days = INVITE_VALIDITY.days
    console.print(
        f"invitation {created.id} for {created.login} ({created.role}), valid {days} days, "
        "works once. Send them this address under the service's own (e.g. https://host):"
    )
    print(created.path)
