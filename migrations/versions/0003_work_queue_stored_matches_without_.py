"""work queue; stored matches without foreign keys, prospect index

The job table holds work a change leaves for after its commit. enterprise_match is derived
data rewritten whole by a full rematch: its foreign-key checks cost the COPY of 5 million rows
about two minutes of its three, and nothing deletes enterprises or products.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 09:32:04.114276
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job',
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('run_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('worker', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index('ix_job_status_run_after', ['status', 'run_after'], unique=False)
        batch_op.create_index('uq_job_queued_kind_key', ['kind', 'key'], unique=True, sqlite_where=sa.text("status = 'queued'"), postgresql_where=sa.text("status = 'queued'"))

    with op.batch_alter_table('enterprise_match', schema=None) as batch_op:
        batch_op.create_index('ix_enterprise_match_prospects', ['product_id', 'product_rank'], unique=False, sqlite_where=sa.text('product_rank IS NOT NULL'), postgresql_where=sa.text('product_rank IS NOT NULL'))
        batch_op.drop_constraint(batch_op.f('fk_enterprise_match_product_id_product'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_enterprise_match_enterprise_id_enterprise'), type_='foreignkey')



def downgrade() -> None:
    # Rows of enterprises or products that no longer exist would break the restored keys.
    op.execute(
        "DELETE FROM enterprise_match WHERE enterprise_id NOT IN (SELECT id FROM enterprise) "
        "OR product_id NOT IN (SELECT id FROM product)"
    )
    with op.batch_alter_table('enterprise_match', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_enterprise_match_enterprise_id_enterprise'), 'enterprise', ['enterprise_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_enterprise_match_product_id_product'), 'product', ['product_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_index('ix_enterprise_match_prospects', sqlite_where=sa.text('product_rank IS NOT NULL'), postgresql_where=sa.text('product_rank IS NOT NULL'))

    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('uq_job_queued_kind_key', sqlite_where=sa.text("status = 'queued'"), postgresql_where=sa.text("status = 'queued'"))
        batch_op.drop_index('ix_job_status_run_after')

    op.drop_table('job')
