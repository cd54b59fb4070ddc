"""foundation: libraries and catalogue

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 04:35:01.189360
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bank',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('short_name', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('bridge_fund_partner', sa.Boolean(), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('website', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_bank'))
    )
    op.create_table('cluster',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('tier_rank', sa.Integer(), nullable=False),
    sa.Column('priority_rank', sa.Integer(), nullable=False),
    sa.Column('keywords', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('industry_codes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_cluster'))
    )
    op.create_table('district',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('area_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_district'))
    )
    op.create_table('lpr_rate',
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('tenor', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('rate_bp', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('effective_date', 'tenor', name=op.f('pk_lpr_rate'))
    )
    op.create_table('qualification_type',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('term_months', sa.Integer(), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_qualification_type'))
    )
    op.create_table('size_industry',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('gbt_scope', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('indicators', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_size_industry'))
    )
    op.create_table('enterprise',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('district_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('industry_code', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('cluster_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('chain_tag', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('revenue_fen', sa.BigInteger(), nullable=True),
    sa.Column('total_assets_fen', sa.BigInteger(), nullable=True),
    sa.Column('established_date', sa.Date(), nullable=True),
    sa.Column('credit_grade', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('name_normalized', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('registered_area_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('registered_in_wuxi', sa.Boolean(), nullable=False),
    sa.Column('size_class', sa.String(length=16), nullable=True),
    sa.Column('size_industry_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cluster_code'], ['cluster.code'], name=op.f('fk_enterprise_cluster_code_cluster')),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_enterprise_district_code_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_enterprise_credit_code'))
    )
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.create_index('ix_enterprise_cluster_code_id', ['cluster_code', 'id'], unique=False)
        batch_op.create_index('ix_enterprise_district_code_id', ['district_code', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprise_name_normalized'), ['name_normalized'], unique=False)
        batch_op.create_index('ix_enterprise_size_class_id', ['size_class', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprise_updated_at'), ['updated_at'], unique=False)

    op.create_table('product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_code'], ['bank.code'], name=op.f('fk_product_bank_code_bank')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product')),
    sa.UniqueConstraint('code', name=op.f('uq_product_code'))
    )
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_bank_code'), ['bank_code'], unique=False)
        batch_op.create_index('ix_product_updated_at_id', ['updated_at', 'id'], unique=False)

    op.create_table('size_threshold',
    sa.Column('industry_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('size_class', sa.String(length=16), nullable=False),
    sa.Column('employees_min', sa.Integer(), nullable=True),
    sa.Column('revenue_min_wan', sa.Integer(), nullable=True),
    sa.Column('assets_min_wan', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['industry_key'], ['size_industry.key'], name=op.f('fk_size_threshold_industry_key_size_industry')),
    sa.PrimaryKeyConstraint('industry_key', 'size_class', name=op.f('pk_size_threshold'))
    )
    op.create_table('contact',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_contact_enterprise_id_enterprise'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact'))
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('product_version',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('scheme', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('eligibility', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('amount_min_fen', sa.BigInteger(), nullable=True),
    sa.Column('amount_max_fen', sa.BigInteger(), nullable=True),
    sa.Column('term_unit', sa.String(length=8), nullable=False),
    sa.Column('term_min', sa.Integer(), nullable=True),
    sa.Column('term_max', sa.Integer(), nullable=True),
    sa.Column('rate', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('collateral_types', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('purposes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('fees', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('is_sample', sa.Boolean(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_version_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_version')),
    sa.UniqueConstraint('product_id', 'version', name=op.f('uq_product_version_product_id_version'))
    )
    op.create_table('project',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('cluster_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('total_investment_fen', sa.BigInteger(), nullable=False),
    sa.Column('equipment_investment_fen', sa.BigInteger(), nullable=True),
    sa.Column('financing_need_fen', sa.BigInteger(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cluster_code'], ['cluster.code'], name=op.f('fk_project_cluster_code_cluster')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_project_enterprise_id_enterprise'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project'))
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index('ix_project_cluster_code_id', ['cluster_code', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('qualification',
    sa.Column('type_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('issued_date', sa.Date(), nullable=False),
    sa.Column('expires_date', sa.Date(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_qualification_enterprise_id_enterprise'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['type_code'], ['qualification_type.code'], name=op.f('fk_qualification_type_code_qualification_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qualification')),
    sa.UniqueConstraint('enterprise_id', 'type_code', 'issued_date', name=op.f('uq_qualification_enterprise_id_type_code_issued_date'))
    )
    with op.batch_alter_table('qualification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qualification_enterprise_id'), ['enterprise_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('qualification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qualification_enterprise_id'))

    op.drop_table('qualification')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_enterprise_id'))
        batch_op.drop_index('ix_project_cluster_code_id')

    op.drop_table('project')
    op.drop_table('product_version')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_enterprise_id'))

    op.drop_table('contact')
    op.drop_table('size_threshold')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_index('ix_product_updated_at_id')
        batch_op.drop_index(batch_op.f('ix_product_bank_code'))

    op.drop_table('product')
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_updated_at'))
        batch_op.drop_index('ix_enterprise_size_class_id')
        batch_op.drop_index(batch_op.f('ix_enterprise_name_normalized'))
        batch_op.drop_index('ix_enterprise_district_code_id')
        batch_op.drop_index('ix_enterprise_cluster_code_id')

    op.drop_table('enterprise')
    op.drop_table('size_industry')
    op.drop_table('qualification_type')
    op.drop_table('lpr_rate')
    op.drop_table('district')
    op.drop_table('cluster')
    op.drop_table('bank')
