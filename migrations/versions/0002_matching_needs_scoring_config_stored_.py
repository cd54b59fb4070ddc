"""matching: needs, scoring config, stored matches

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 05:33:06.392428
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scoring_config',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('config', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_scoring_config'))
    )
    op.create_table('enterprise_match',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('product_version', sa.Integer(), nullable=False),
    sa.Column('config_version', sa.Integer(), nullable=False),
    sa.Column('score_centi', sa.Integer(), nullable=False),
    sa.Column('enterprise_rank', sa.Integer(), nullable=True),
    sa.Column('product_rank', sa.Integer(), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_enterprise_match_enterprise_id_enterprise'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_enterprise_match_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_match')),
    sa.UniqueConstraint('enterprise_id', 'product_id', name=op.f('uq_enterprise_match_enterprise_id_product_id'))
    )
    with op.batch_alter_table('enterprise_match', schema=None) as batch_op:
        batch_op.create_index('ix_enterprise_match_product_id_score', ['product_id', 'score_centi'], unique=False)

    op.create_table('financing_need',
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('term_months', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('collateral', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('wanted_by_date', sa.Date(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('consent_share_details', sa.Boolean(), nullable=False),
    sa.Column('max_banks', sa.Integer(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_financing_need_enterprise_id_enterprise'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_financing_need_project_id_project'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_financing_need'))
    )
    with op.batch_alter_table('financing_need', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_financing_need_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('ix_financing_need_status_id', ['status', 'id'], unique=False)

    op.create_table('need_match',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('product_version', sa.Integer(), nullable=False),
    sa.Column('config_version', sa.Integer(), nullable=False),
    sa.Column('score_centi', sa.Integer(), nullable=False),
    sa.Column('need_rank', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_need_match_enterprise_id_enterprise'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['need_id'], ['financing_need.id'], name=op.f('fk_need_match_need_id_financing_need'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_need_match_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_need_match')),
    sa.UniqueConstraint('need_id', 'product_id', name=op.f('uq_need_match_need_id_product_id'))
    )
    with op.batch_alter_table('need_match', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_need_match_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('ix_need_match_product_id_score', ['product_id', 'score_centi'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('need_match', schema=None) as batch_op:
        batch_op.drop_index('ix_need_match_product_id_score')
        batch_op.drop_index(batch_op.f('ix_need_match_enterprise_id'))

    op.drop_table('need_match')
    with op.batch_alter_table('financing_need', schema=None) as batch_op:
        batch_op.drop_index('ix_financing_need_status_id')
        batch_op.drop_index(batch_op.f('ix_financing_need_enterprise_id'))

    op.drop_table('financing_need')
    with op.batch_alter_table('enterprise_match', schema=None) as batch_op:
        batch_op.drop_index('ix_enterprise_match_product_id_score')

    op.drop_table('enterprise_match')
    op.drop_table('scoring_config')
