"""requests (诉求), their steps and attachments, departments, categories, and service ratings

appeal: a request an enterprise raises about its financing (kind, the bank, lead or loan it
concerns, the charge rule it says was broken), with its triage, dispatch (handler, due date),
answer, result, confirmation and rating; appeal_event: every step, with who and when;
appeal_attachment: the files kept with a request (bytes in the attachment store);
department and appeal_category: reference data the office keeps (categories give the due
date in working days); service_rating: an enterprise's 1–5 rating of a bank's service on an
ended lead or of a closed request's handling, one per lead and one per request.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 21:30:06.416025
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('appeal_category',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('due_working_days', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('due_working_days BETWEEN 1 AND 60', name=op.f('ck_appeal_category_due_days')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_appeal_category'))
    )
    op.create_table('department',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_department'))
    )
    op.create_table('appeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('charge_rule', sa.String(length=24), nullable=True),
    sa.Column('charge_item', sa.String(length=16), nullable=True),
    sa.Column('charge_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('offered_rate_bp', sa.Integer(), nullable=True),
    sa.Column('charged_rate_bp', sa.Integer(), nullable=True),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('loan_id', sa.Integer(), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('show_to_bank', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('category_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('handler_kind', sa.String(length=16), nullable=True),
    sa.Column('handler_bank_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('handler_department_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('dispatched_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopens', sa.Integer(), nullable=False),
    sa.Column('reopen_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('raised_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_code'], ['bank.code'], name=op.f('fk_appeal_bank_code_bank')),
    sa.ForeignKeyConstraint(['category_code'], ['appeal_category.code'], name=op.f('fk_appeal_category_code_appeal_category')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_appeal_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['handler_bank_code'], ['bank.code'], name=op.f('fk_appeal_handler_bank_code_bank')),
    sa.ForeignKeyConstraint(['handler_department_code'], ['department.code'], name=op.f('fk_appeal_handler_department_code_department')),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_appeal_lead_id_lead')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_appeal_loan_id_loan')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['appeal.id'], name=op.f('fk_appeal_merged_into_id_appeal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal'))
    )
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('ix_appeal_handler_bank_code_id', ['handler_bank_code', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_loan_id'), ['loan_id'], unique=False)
        batch_op.create_index('ix_appeal_open_created_at', ['created_at'], unique=False, sqlite_where=sa.text("status IN ('raised', 'accepted', 'dispatched', 'answered', 'reopened')"), postgresql_where=sa.text("status IN ('raised', 'accepted', 'dispatched', 'answered', 'reopened')"))
        batch_op.create_index('ix_appeal_status_due_date', ['status', 'due_date'], unique=False)

    op.create_table('appeal_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('storage_key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('uploaded_by_role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('uploaded_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeal.id'], name=op.f('fk_appeal_attachment_appeal_id_appeal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_attachment')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_appeal_attachment_storage_key'))
    )
    with op.batch_alter_table('appeal_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_attachment_appeal_id'), ['appeal_id'], unique=False)

    op.create_table('appeal_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('actor_role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeal.id'], name=op.f('fk_appeal_event_appeal_id_appeal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_event'))
    )
    with op.batch_alter_table('appeal_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_event_appeal_id'), ['appeal_id'], unique=False)

    op.create_table('service_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('appeal_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('appeal_kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('show_name', sa.Boolean(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(lead_id IS NULL) <> (appeal_id IS NULL)', name=op.f('ck_service_rating_one_subject')),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_service_rating_score')),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeal.id'], name=op.f('fk_service_rating_appeal_id_appeal')),
    sa.ForeignKeyConstraint(['bank_code'], ['bank.code'], name=op.f('fk_service_rating_bank_code_bank')),
    sa.ForeignKeyConstraint(['department_code'], ['department.code'], name=op.f('fk_service_rating_department_code_department')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_service_rating_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_service_rating_lead_id_lead')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_service_rating_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_rating')),
    sa.UniqueConstraint('appeal_id', name=op.f('uq_service_rating_appeal_id')),
    sa.UniqueConstraint('lead_id', name=op.f('uq_service_rating_lead_id'))
    )
    with op.batch_alter_table('service_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_rating_bank_code'), ['bank_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_rating_enterprise_id'), ['enterprise_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('service_rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_rating_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_service_rating_bank_code'))

    op.drop_table('service_rating')
    with op.batch_alter_table('appeal_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_event_appeal_id'))

    op.drop_table('appeal_event')
    with op.batch_alter_table('appeal_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_attachment_appeal_id'))

    op.drop_table('appeal_attachment')
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_index('ix_appeal_status_due_date')
        batch_op.drop_index('ix_appeal_open_created_at', sqlite_where=sa.text("status IN ('raised', 'accepted', 'dispatched', 'answered', 'reopened')"), postgresql_where=sa.text("status IN ('raised', 'accepted', 'dispatched', 'answered', 'reopened')"))
        batch_op.drop_index(batch_op.f('ix_appeal_loan_id'))
        batch_op.drop_index(batch_op.f('ix_appeal_lead_id'))
        batch_op.drop_index('ix_appeal_handler_bank_code_id')
        batch_op.drop_index(batch_op.f('ix_appeal_enterprise_id'))

    op.drop_table('appeal')
    op.drop_table('department')
    op.drop_table('appeal_category')
