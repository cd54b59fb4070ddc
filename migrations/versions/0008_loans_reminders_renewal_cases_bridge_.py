"""loans, reminders, renewal cases, bridge applications

A loan is unique per bank and contract number (a re-import updates it); the reminder run
reads active loans by (status, maturity_date); a reminder is unique per loan, maturity and
stage, which is what makes it exactly once; a loan has one renewal case.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 20:20:51
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reminder_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('stages', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminders', sa.Integer(), nullable=False),
    sa.Column('late', sa.Integer(), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_run'))
    )
    op.create_table('loan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('contract_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('principal_fen', sa.BigInteger(), nullable=False),
    sa.Column('rate_bp', sa.Integer(), nullable=False),
    sa.Column('disbursed_date', sa.Date(), nullable=False),
    sa.Column('maturity_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('renewed_from_id', sa.Integer(), nullable=True),
    sa.Column('closed_date', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_code'], ['bank.code'], name=op.f('fk_loan_bank_code_bank')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_loan_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_loan_lead_id_lead')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_loan_product_id_product')),
    sa.ForeignKeyConstraint(['renewed_from_id'], ['loan.id'], name=op.f('fk_loan_renewed_from_id_loan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan')),
    sa.UniqueConstraint('bank_code', 'contract_no', name=op.f('uq_loan_bank_code_contract_no')),
    sa.UniqueConstraint('lead_id', name=op.f('uq_loan_lead_id'))
    )
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.create_index('ix_loan_bank_code_maturity_date', ['bank_code', 'maturity_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_loan_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('ix_loan_status_maturity_date', ['status', 'maturity_date'], unique=False)

    op.create_table('bridge_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('fee_fen', sa.BigInteger(), nullable=False),
    sa.Column('committed_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_code'], ['bank.code'], name=op.f('fk_bridge_application_bank_code_bank')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_bridge_application_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_bridge_application_loan_id_loan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bridge_application'))
    )
    with op.batch_alter_table('bridge_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bridge_application_bank_code'), ['bank_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_bridge_application_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bridge_application_loan_id'), ['loan_id'], unique=False)

    op.create_table('loan_reminder',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('maturity_date', sa.Date(), nullable=False),
    sa.Column('stage_days', sa.Integer(), nullable=False),
    sa.Column('remind_date', sa.Date(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('final', sa.Boolean(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_code'], ['bank.code'], name=op.f('fk_loan_reminder_bank_code_bank')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_loan_reminder_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_loan_reminder_loan_id_loan')),
    sa.ForeignKeyConstraint(['run_id'], ['reminder_run.id'], name=op.f('fk_loan_reminder_run_id_reminder_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_reminder')),
    sa.UniqueConstraint('loan_id', 'maturity_date', 'stage_days', name=op.f('uq_loan_reminder_loan_id_maturity_date_stage_days'))
    )
    with op.batch_alter_table('loan_reminder', schema=None) as batch_op:
        batch_op.create_index('ix_loan_reminder_bank_code_id', ['bank_code', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loan_reminder_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('ix_loan_reminder_run_id_bank_code', ['run_id', 'bank_code'], unique=False)

    op.create_table('renewal_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('contacted_date', sa.Date(), nullable=True),
    sa.Column('committed_date', sa.Date(), nullable=True),
    sa.Column('committed_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('no_principal', sa.Boolean(), nullable=True),
    sa.Column('bridge_needed_date', sa.Date(), nullable=True),
    sa.Column('bridged_date', sa.Date(), nullable=True),
    sa.Column('renewed_date', sa.Date(), nullable=True),
    sa.Column('renewal_loan_id', sa.Integer(), nullable=True),
    sa.Column('repaid_date', sa.Date(), nullable=True),
    sa.Column('failed_date', sa.Date(), nullable=True),
    sa.Column('failed_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_renewal_case_loan_id_loan')),
    sa.ForeignKeyConstraint(['renewal_loan_id'], ['loan.id'], name=op.f('fk_renewal_case_renewal_loan_id_loan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_renewal_case')),
    sa.UniqueConstraint('loan_id', name=op.f('uq_renewal_case_loan_id'))
    )


def downgrade() -> None:
    op.drop_table('renewal_case')
    with op.batch_alter_table('loan_reminder', schema=None) as batch_op:
        batch_op.drop_index('ix_loan_reminder_run_id_bank_code')
        batch_op.drop_index(batch_op.f('ix_loan_reminder_enterprise_id'))
        batch_op.drop_index('ix_loan_reminder_bank_code_id')

    op.drop_table('loan_reminder')
    with op.batch_alter_table('bridge_application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bridge_application_loan_id'))
        batch_op.drop_index(batch_op.f('ix_bridge_application_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_bridge_application_bank_code'))

    op.drop_table('bridge_application')
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.drop_index('ix_loan_status_maturity_date')
        batch_op.drop_index(batch_op.f('ix_loan_enterprise_id'))
        batch_op.drop_index('ix_loan_bank_code_maturity_date')

    op.drop_table('loan')
    op.drop_table('reminder_run')
