"""bridge fund dates, provisional reminder dates

bridge_application.approved_date, disbursed_date, repaid_date: the day each step happened,
as the office records it. An application already past a step keeps the day its latest step
was recorded (decided_at, in Asia/Shanghai): the only date known for it; earlier steps of
such an application stay null.

loan_reminder.provisional: the reminder's date was found on a year whose official holiday
notice the calendar did not carry yet; false for every reminder sent so far (they were all
due in years the calendar knew). ix_loan_reminder_provisional, partial, finds the few
provisional ones for the reminder run. reminder_run.recomputed: how many provisional dates a
run made final.

Every column is added (and on SQLite dropped) in place; the NOT NULL ones with a plain
string default, which SQLite takes in ALTER TABLE without copying the table.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 22:40:00
"""
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BRIDGE_DATES = {'approved': 'approved_date', 'disbursed': 'disbursed_date', 'repaid': 'repaid_date'}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade() -> None:
    with op.batch_alter_table('bridge_application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('disbursed_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('repaid_date', sa.Date(), nullable=True))

    _backfill_bridge_dates()

    with op.batch_alter_table('loan_reminder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provisional', sa.Boolean(), nullable=False, server_default='0'))
        batch_op.create_index('ix_loan_reminder_provisional', ['maturity_date', 'stage_days'], unique=False, sqlite_where=sa.text('provisional = 1'), postgresql_where=sa.text('provisional'))

    with op.batch_alter_table('reminder_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recomputed', sa.Integer(), nullable=False, server_default='0'))


def _backfill_bridge_dates() -> None:
    bind = op.get_bind()
    shanghai = ZoneInfo('Asia/Shanghai')
    rows = bind.execute(
        sa.text(
            'SELECT id, status, decided_at FROM bridge_application '
            "WHERE status IN ('approved', 'disbursed', 'repaid') AND decided_at IS NOT NULL"
        )
    ).all()
    for application_id, status, decided_at in rows:
        if isinstance(decided_at, str):  # SQLite hands back text
            decided_at = datetime.fromisoformat(decided_at)
        if decided_at.tzinfo is None:
            decided_at = decided_at.replace(tzinfo=UTC)
        bind.execute(
            sa.text(f'UPDATE bridge_application SET {_BRIDGE_DATES[status]} = :d WHERE id = :i'),
            {'d': decided_at.astimezone(shanghai).date(), 'i': application_id},
        )


def downgrade() -> None:
    with op.batch_alter_table('loan_reminder', schema=None) as batch_op:
        batch_op.drop_index('ix_loan_reminder_provisional', sqlite_where=sa.text('provisional = 1'), postgresql_where=sa.text('provisional'))

    if _sqlite():
        op.execute('ALTER TABLE reminder_run DROP COLUMN recomputed')
        op.execute('ALTER TABLE loan_reminder DROP COLUMN provisional')
        for column in ('repaid_date', 'disbursed_date', 'approved_date'):
            op.execute(f'ALTER TABLE bridge_application DROP COLUMN {column}')
    else:
        with op.batch_alter_table('reminder_run', schema=None) as batch_op:
            batch_op.drop_column('recomputed')

        with op.batch_alter_table('loan_reminder', schema=None) as batch_op:
            batch_op.drop_column('provisional')

        with op.batch_alter_table('bridge_application', schema=None) as batch_op:
            batch_op.drop_column('repaid_date')
            batch_op.drop_column('disbursed_date')
            batch_op.drop_column('approved_date')
