"""appeal.due_date_provisional: whether a request's due date was counted on the calendar's
estimate of a year (its holiday notice not out yet) when it was dispatched

Until now the flag was worked out on every read from the dispatch and due dates against the
installed calendar, so an upgrade of the calendar that learned the year turned it off while
the stored date stayed the one counted on the estimate. It is now kept with the date, set by
the dispatch that counted it. Existing requests get what the API showed them before this
revision (the same computation against the calendar installed now); the column is added in
place with a plain string default, which SQLite takes in ALTER TABLE without copying the
table.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade() -> None:
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('due_date_provisional', sa.Boolean(), nullable=False, server_default='0')
        )
    _backfill()


def _backfill() -> None:
    from service.taxonomy.workdays import settled

    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            'SELECT id, dispatched_date, due_date FROM appeal '
            'WHERE dispatched_date IS NOT NULL AND due_date IS NOT NULL'
        )
    ).all()
    provisional = [
        {'i': appeal_id, 't': True}
        for appeal_id, dispatched, due in rows
        if not settled(_day(dispatched), _day(due))
    ]
    if provisional:  # a few: those due in a year whose notice the calendar lacks
        bind.execute(sa.text('UPDATE appeal SET due_date_provisional = :t WHERE id = :i'), provisional)


def _day(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value  # SQLite: text


def downgrade() -> None:
    if _sqlite():
        op.execute('ALTER TABLE appeal DROP COLUMN due_date_provisional')
    else:
        with op.batch_alter_table('appeal', schema=None) as batch_op:
            batch_op.drop_column('due_date_provisional')
