"""people's accounts, invitations, and a lead's assignee

user_account: a person who signs in to the pages (office staff, a bank's administrator or
account manager, an enterprise's user) with an Argon2id password hash and the lockout state.
invitation: one-time links (a new account, or a new password after an administrator's reset)
kept as the token's SHA-256. web_session may now act as a person (user_id) instead of a key.
audit_entry.actor_user_id names the person who acted. lead.assignee_user_id / assigned_at:
the account manager a bank's administrator gave the lead to.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 13:44:29.851721
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('bank_role', sa.String(length=16), nullable=True),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bank_code'], ['bank.code'], name=op.f('fk_user_account_bank_code_bank')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_user_account_enterprise_id_enterprise'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('login', name=op.f('uq_user_account_login'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_bank_code'), ['bank_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_account_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('login', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('bank_role', sa.String(length=16), nullable=True),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bank_code'], ['bank.code'], name=op.f('fk_invitation_bank_code_bank')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_invitation_enterprise_id_enterprise'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_invitation_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_bank_code'), ['bank_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_login'), ['login'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_user_id', sa.Integer(), nullable=True))

    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_lead_assignee_user_id'), ['assignee_user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_lead_assignee_user_id_user_account'), 'user_account', ['assignee_user_id'], ['id'])

    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.alter_column('api_key_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_web_session_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_web_session_user_id_user_account'), 'user_account', ['user_id'], ['id'], ondelete='CASCADE')



def downgrade() -> None:
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_web_session_user_id_user_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_web_session_user_id'))
        batch_op.alter_column('api_key_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('user_id')

    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lead_assignee_user_id_user_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_lead_assignee_user_id'))
        batch_op.drop_column('assigned_at')
        batch_op.drop_column('assignee_user_id')

    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('actor_user_id')

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_user_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_login'))
        batch_op.drop_index(batch_op.f('ix_invitation_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_bank_code'))

    op.drop_table('invitation')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_user_account_bank_code'))

    op.drop_table('user_account')
