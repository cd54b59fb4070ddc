"""The ``keys`` commands: issue an API key (printed once, alone on the last line), list the
keys (never the keys themselves), revoke one by id or prefix. A refusal exits with status 1."""

from typing import Annotated

import typer
from rich.table import Table

from service.cli.common import console

keys_app = typer.Typer(help="API keys: create, list, revoke", no_args_is_help=True)


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
