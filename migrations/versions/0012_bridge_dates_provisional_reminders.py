"""bridge fund dates

bridge_application.approved_date, disbursed_date, repaid_date: the day each step happened,
as the office records it. An application already past a step keeps the day its latest step
was recorded (decided_at, in Asia/Shanghai): the only date known for it; earlier steps of
such an application stay null.

The columns are plain nullable dates, added (and on SQLite dropped) in place.

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
    if _sqlite():
        for column in ('repaid_date', 'disbursed_date', 'approved_date'):
            op.execute(f'ALTER TABLE bridge_application DROP COLUMN {column}')
    else:
        with op.batch_alter_table('bridge_application', schema=None) as batch_op:
            batch_op.drop_column('repaid_date')
            batch_op.drop_column('disbursed_date')
            batch_op.drop_column('approved_date')
