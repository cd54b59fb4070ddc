"""audit: one read entry per request, listing the enterprises read

A bank's page of 100 leads was 100 audit rows (four index entries each) written inside the
request; it is now one row whose enterprise_ids lists them. On PostgreSQL the list is an
integer array with a GIN index, so the office still finds every read of one enterprise;
on SQLite it is a JSON array. Earlier read rows keep their enterprise_id and stay found.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 12:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'enterprise_ids',
            sa.JSON().with_variant(postgresql.ARRAY(sa.Integer()), 'postgresql'),
            nullable=True,
        ))
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index(
            'ix_audit_entry_enterprise_ids', 'audit_entry', ['enterprise_ids'],
            postgresql_using='gin',
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_audit_entry_enterprise_ids', table_name='audit_entry')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('enterprise_ids')
