"""enterprise ownership

ownership_type: ownership (控股情况) as the statistics classify it, with whether each type
counts as 民营企业 (filled by `finmatch seed`). enterprise.ownership: the enterprise's type,
null (unknown) for every existing enterprise: nobody recorded it, and nothing here guesses.

On SQLite the column is added with ALTER TABLE and its REFERENCES inline, not in batch mode:
batch mode copies the table and drops the old one, and with foreign keys on, dropping the
enterprise table deletes its qualifications, contacts and matches (ON DELETE CASCADE).
SQLite (3.35 and later) drops such a column in place as well.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 10:05:12
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade() -> None:
    op.create_table('ownership_type',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('stats_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('private', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_ownership_type'))
    )
    if _sqlite():
        op.execute(
            'ALTER TABLE enterprise ADD COLUMN ownership VARCHAR(16) '
            'CONSTRAINT fk_enterprise_ownership_ownership_type REFERENCES ownership_type (code)'
        )
    else:
        with op.batch_alter_table('enterprise', schema=None) as batch_op:
            batch_op.add_column(sa.Column('ownership', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
            batch_op.create_foreign_key(batch_op.f('fk_enterprise_ownership_ownership_type'), 'ownership_type', ['ownership'], ['code'])
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.create_index('ix_enterprise_ownership_id', ['ownership', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.drop_index('ix_enterprise_ownership_id')

    if _sqlite():
        op.execute('ALTER TABLE enterprise DROP COLUMN ownership')
    else:
        with op.batch_alter_table('enterprise', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('fk_enterprise_ownership_ownership_type'), type_='foreignkey')
            batch_op.drop_column('ownership')

    op.drop_table('ownership_type')
