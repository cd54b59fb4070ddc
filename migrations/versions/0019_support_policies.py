"""support policies (政策直达): policies, their versions, entitlements, notices and awards

policy: a support policy (name, department, source text), never deleted (made inactive);
policy_version: its rule as parameters with effective dates and a budget, written once;
policy_entitlement: what an enterprise is entitled to under a policy for a period ("once" or
the year), current or lapsed, one per (enterprise, policy, period); policy_notice: the one
notice of an entitlement; policy_grant: the award the office recorded (applied, approved with
an amount, paid, rejected), one per (enterprise, policy, period). Webhook endpoints and events
of a district office: a district instead of a bank (exactly one of the two).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 02:30:14.610428
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('policy',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_code'], ['department.code'], name=op.f('fk_policy_department_code_department')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_policy'))
    )
    op.create_table('policy_entitlement',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('policy_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lapsed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_policy_entitlement_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['policy_code'], ['policy.code'], name=op.f('fk_policy_entitlement_policy_code_policy')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_entitlement')),
    sa.UniqueConstraint('enterprise_id', 'policy_code', 'period', name=op.f('uq_policy_entitlement_enterprise_id_policy_code_period'))
    )
    with op.batch_alter_table('policy_entitlement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_entitlement_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('ix_policy_entitlement_policy_code_status', ['policy_code', 'status'], unique=False)

    op.create_table('policy_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('policy_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('applied_date', sa.Date(), nullable=False),
    sa.Column('approved_fen', sa.BigInteger(), nullable=True),
    sa.Column('approved_date', sa.Date(), nullable=True),
    sa.Column('paid_fen', sa.BigInteger(), nullable=True),
    sa.Column('paid_date', sa.Date(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('approved_fen IS NULL OR approved_fen >= 0', name=op.f('ck_policy_grant_approved_fen')),
    sa.CheckConstraint('paid_fen IS NULL OR paid_fen >= 0', name=op.f('ck_policy_grant_paid_fen')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_policy_grant_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['policy_code'], ['policy.code'], name=op.f('fk_policy_grant_policy_code_policy')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_grant')),
    sa.UniqueConstraint('enterprise_id', 'policy_code', 'period', name=op.f('uq_policy_grant_enterprise_id_policy_code_period'))
    )
    with op.batch_alter_table('policy_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_grant_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('ix_policy_grant_policy_code_status', ['policy_code', 'status'], unique=False)

    op.create_table('policy_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('budget_fen', sa.BigInteger(), nullable=True),
    sa.Column('parameters', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('budget_fen IS NULL OR budget_fen > 0', name=op.f('ck_policy_version_budget_positive')),
    sa.CheckConstraint('effective_to IS NULL OR effective_to >= effective_from', name=op.f('ck_policy_version_effective_dates')),
    sa.ForeignKeyConstraint(['policy_code'], ['policy.code'], name=op.f('fk_policy_version_policy_code_policy')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_version')),
    sa.UniqueConstraint('policy_code', 'version', name=op.f('uq_policy_version_policy_code_version'))
    )
    op.create_table('policy_notice',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entitlement_id', sa.BigInteger(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('policy_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_policy_notice_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['entitlement_id'], ['policy_entitlement.id'], name=op.f('fk_policy_notice_entitlement_id_policy_entitlement')),
    sa.ForeignKeyConstraint(['policy_code'], ['policy.code'], name=op.f('fk_policy_notice_policy_code_policy')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_notice')),
    sa.UniqueConstraint('entitlement_id', name=op.f('uq_policy_notice_entitlement_id'))
    )
    with op.batch_alter_table('policy_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_notice_enterprise_id'), ['enterprise_id'], unique=False)

    # A district office's webhook endpoints and events: a district instead of a bank.
    for table in ('bank_event', 'webhook_endpoint'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('district_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
            batch_op.alter_column('bank_code', existing_type=sa.VARCHAR(length=32), nullable=True)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_district_code_district'), 'district', ['district_code'], ['code'])
            batch_op.create_check_constraint(batch_op.f(f'ck_{table}_one_audience'), '(bank_code IS NULL) <> (district_code IS NULL)')


def downgrade() -> None:
    # District offices' endpoints, their deliveries and events go with the column.
    op.execute("DELETE FROM webhook_delivery WHERE endpoint_id IN (SELECT id FROM webhook_endpoint WHERE bank_code IS NULL)")
    op.execute("DELETE FROM webhook_delivery WHERE event_id IN (SELECT id FROM bank_event WHERE bank_code IS NULL)")
    op.execute("DELETE FROM webhook_endpoint WHERE bank_code IS NULL")
    op.execute("DELETE FROM bank_event WHERE bank_code IS NULL")
    for table in ('webhook_endpoint', 'bank_event'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'ck_{table}_one_audience'), type_='check')
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_district_code_district'), type_='foreignkey')
            batch_op.alter_column('bank_code', existing_type=sa.VARCHAR(length=32), nullable=False)
            batch_op.drop_column('district_code')
    with op.batch_alter_table('policy_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_notice_enterprise_id'))

    op.drop_table('policy_notice')
    op.drop_table('policy_version')
    with op.batch_alter_table('policy_grant', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_grant_policy_code_status')
        batch_op.drop_index(batch_op.f('ix_policy_grant_enterprise_id'))

    op.drop_table('policy_grant')
    with op.batch_alter_table('policy_entitlement', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_entitlement_policy_code_status')
        batch_op.drop_index(batch_op.f('ix_policy_entitlement_enterprise_id'))

    op.drop_table('policy_entitlement')
    op.drop_table('policy')
