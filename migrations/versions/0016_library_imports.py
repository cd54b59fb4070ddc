"""bulk imports of the enterprise and project libraries

library_import: a spreadsheet of the enterprise library (by credit code) or the project
library (by unit credit code and project name), previewed and then committed, with its counts
by action. library_import_row: each data row with what the file says, what it changes (old →
new), and every reason it was rejected; paged by action, and read again at commit, which
applies the rows against the library as it is then.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-14 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('library_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('checksum', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('counts', _JSON, nullable=False),
    sa.Column('applied', _JSON, nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('committed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_import'))
    )
    op.create_table('library_import_row',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=240), nullable=True),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('values', _JSON, nullable=False),
    sa.Column('changes', _JSON, nullable=False),
    sa.Column('errors', _JSON, nullable=False),
    sa.Column('warnings', _JSON, nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['library_import.id'], name=op.f('fk_library_import_row_import_id_library_import'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_import_row')),
    sa.UniqueConstraint('import_id', 'row', name=op.f('uq_library_import_row_import_id_row'))
    )
    with op.batch_alter_table('library_import_row', schema=None) as batch_op:
        batch_op.create_index('ix_library_import_row_import_id_action_id', ['import_id', 'action', 'id'], unique=False)
        batch_op.create_index('ix_library_import_row_import_id_key', ['import_id', 'key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('library_import_row', schema=None) as batch_op:
        batch_op.drop_index('ix_library_import_row_import_id_key')
        batch_op.drop_index('ix_library_import_row_import_id_action_id')

    op.drop_table('library_import_row')
    op.drop_table('library_import')
