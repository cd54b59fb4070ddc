"""webhook log without the receivers' answers

The delivery log kept the start of a receiver's answer in webhook_attempt.error and
webhook_delivery.last_error ("HTTP 500: <answer>"), and a protocol error quoted the bytes a
non-HTTP service sent ("RemoteProtocolError: illegal status line: …"). A bank that pointed its
webhook inside our network could read those answers. From now on only the status is written
("HTTP 500"); this clears what was stored before, leaving the status and the failure's kind.

No column changes. The downgrade changes nothing: the answers are gone for good, and the
previous release reads the shorter values as they are.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_HTTP = '接收端未给出有效的 HTTP 回答'

# (table, error column, status column)
_LOGS = (
    ('webhook_attempt', 'error', 'status_code'),
    ('webhook_delivery', 'last_error', 'last_status_code'),
)


def upgrade() -> None:
    for table, error, status in _LOGS:
        op.execute(
            sa.text(
                f"UPDATE {table} SET {error} = 'HTTP ' || CAST({status} AS VARCHAR(3)) "
                f"WHERE {status} IS NOT NULL AND {error} LIKE 'HTTP %'"
            )
        )
        for name in ('RemoteProtocolError', 'LocalProtocolError'):
            op.execute(
                sa.text(
                    f"UPDATE {table} SET {error} = :replacement WHERE {error} LIKE :kind"
                ).bindparams(replacement=f'{name}: {NOT_HTTP}', kind=f'{name}:%')
            )


def downgrade() -> None:
    pass
