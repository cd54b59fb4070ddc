"""leads, bank feeds and events, contact requests, idempotency

A lead is one need (or enterprise) offered to one bank for one product; a partial unique index
keeps one open lead per need and bank. bank_feed hands out each bank's feed positions in
commit order; bank_event is the replayable events feed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 10:01:37.900011
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_record',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('owner', 'key', name=op.f('uq_idempotency_record_owner_key'))
    )
    op.create_table('bank_feed',
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['bank_code'], ['bank.code'], name=op.f('fk_bank_feed_bank_code_bank')),
    sa.PrimaryKeyConstraint('bank_code', name=op.f('pk_bank_feed'))
    )
    op.create_table('lead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('product_version', sa.Integer(), nullable=False),
    sa.Column('config_version', sa.Integer(), nullable=False),
    sa.Column('score_centi', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('consented', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('contact_due_date', sa.Date(), nullable=False),
    sa.Column('viewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_contact_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sla_breached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reassigned_from_id', sa.Integer(), nullable=True),
    sa.Column('declined_reason', sa.String(length=32), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('approved_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('approved_rate_bp', sa.Integer(), nullable=True),
    sa.Column('approved_term_months', sa.Integer(), nullable=True),
    sa.Column('approved_date', sa.Date(), nullable=True),
    sa.Column('disbursed_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('disbursed_rate_bp', sa.Integer(), nullable=True),
    sa.Column('disbursed_date', sa.Date(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_code'], ['bank.code'], name=op.f('fk_lead_bank_code_bank')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_lead_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['need_id'], ['financing_need.id'], name=op.f('fk_lead_need_id_financing_need')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_lead_product_id_product')),
    sa.ForeignKeyConstraint(['reassigned_from_id'], ['lead.id'], name=op.f('fk_lead_reassigned_from_id_lead')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead'))
    )
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.create_index('ix_lead_bank_code_seq', ['bank_code', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_lead_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lead_need_id'), ['need_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lead_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_lead_status_contact_due_date', ['status', 'contact_due_date'], unique=False)
        batch_op.create_index('uq_lead_open_subject_bank', ['subject_key', 'bank_code'], unique=True, sqlite_where=sa.text("status IN ('approved', 'contacted', 'new', 'viewed')"), postgresql_where=sa.text("status IN ('approved', 'contacted', 'new', 'viewed')"))

    op.create_table('bank_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_code'], ['bank.code'], name=op.f('fk_bank_event_bank_code_bank')),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_bank_event_lead_id_lead')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_event')),
    sa.UniqueConstraint('bank_code', 'seq', name=op.f('uq_bank_event_bank_code_seq'))
    )
    op.create_table('contact_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=True),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bank_code'], ['bank.code'], name=op.f('fk_contact_request_bank_code_bank')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_contact_request_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_contact_request_lead_id_lead')),
    sa.ForeignKeyConstraint(['need_id'], ['financing_need.id'], name=op.f('fk_contact_request_need_id_financing_need')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_contact_request_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_request'))
    )
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_request_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('uq_contact_request_pending', ['bank_code', 'enterprise_id'], unique=True, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))



def downgrade() -> None:
    with op.batch_alter_table('contact_request', schema=None) as batch_op:
        batch_op.drop_index('uq_contact_request_pending', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_contact_request_enterprise_id'))

    op.drop_table('contact_request')
    op.drop_table('bank_event')
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('uq_lead_open_subject_bank', sqlite_where=sa.text("status IN ('approved', 'contacted', 'new', 'viewed')"), postgresql_where=sa.text("status IN ('approved', 'contacted', 'new', 'viewed')"))
        batch_op.drop_index('ix_lead_status_contact_due_date')
        batch_op.drop_index(batch_op.f('ix_lead_product_id'))
        batch_op.drop_index(batch_op.f('ix_lead_need_id'))
        batch_op.drop_index(batch_op.f('ix_lead_enterprise_id'))
        batch_op.drop_index('ix_lead_bank_code_seq')

    op.drop_table('lead')
    op.drop_table('bank_feed')
    op.drop_table('idempotency_record')
