"""lists, entries, library releases, enterprise consent to share

Imported government lists and their entries (how each name was linked and who decided),
numbered library releases with their items, and enterprise.share_with_banks (false for
every existing enterprise: consent is given, never assumed). Company names are normalised
again: the normaliser now also strips every province and the main cities (not only Jiangsu's
and Wuxi's), so stored forms are recomputed; a downgrade keeps the new forms, which the
earlier code reads as well.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 21:13:26
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('library_release',
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('enterprises', sa.Integer(), nullable=False),
    sa.Column('projects', sa.Integer(), nullable=False),
    sa.Column('shared_enterprises', sa.Integer(), nullable=False),
    sa.Column('shared_projects', sa.Integer(), nullable=False),
    sa.Column('checksum', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('shared_checksum', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_library_release'))
    )
    op.create_table('list_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('qualification_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('batch', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('issued_date', sa.Date(), nullable=True),
    sa.Column('expires_date', sa.Date(), nullable=True),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('checksum', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('committed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['qualification_type'], ['qualification_type.code'], name=op.f('fk_list_import_qualification_type_qualification_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_list_import')),
    sa.UniqueConstraint('qualification_type', 'checksum', name=op.f('uq_list_import_qualification_type_checksum'))
    )
    op.create_table('release_item',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('release_number', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['release_number'], ['library_release.number'], name=op.f('fk_release_item_release_number_library_release'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_item')),
    sa.UniqueConstraint('release_number', 'kind', 'item_id', name=op.f('uq_release_item_release_number_kind_item_id'))
    )
    op.create_table('list_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('raw_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
    sa.Column('district_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('batch', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('issued_date', sa.Date(), nullable=True),
    sa.Column('expires_date', sa.Date(), nullable=True),
    sa.Column('normalized', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('match', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('candidates', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('errors', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('applied_qualification_id', sa.Integer(), nullable=True),
    sa.Column('project_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('project_investment_fen', sa.BigInteger(), nullable=True),
    sa.Column('project_year', sa.Integer(), nullable=True),
    sa.Column('applied_project_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['applied_project_id'], ['project.id'], name=op.f('fk_list_entry_applied_project_id_project')),
    sa.ForeignKeyConstraint(['applied_qualification_id'], ['qualification.id'], name=op.f('fk_list_entry_applied_qualification_id_qualification')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_list_entry_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['import_id'], ['list_import.id'], name=op.f('fk_list_entry_import_id_list_import'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_list_entry')),
    sa.UniqueConstraint('import_id', 'row', name=op.f('uq_list_entry_import_id_row'))
    )
    with op.batch_alter_table('list_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_list_entry_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('ix_list_entry_match_decision', ['match', 'decision'], unique=False)

    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('share_with_banks', sa.Boolean(), nullable=False, server_default=sa.false())
        )



    _renormalize_names()


def _renormalize_names() -> None:
    from service.taxonomy.names import normalize_company_name

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, name, name_normalized FROM enterprise")).all()
    changed = []
    for enterprise_id, name, stored in rows:
        normalized = normalize_company_name(name)
        if normalized != stored:
            changed.append({"i": enterprise_id, "n": normalized})
    for start in range(0, len(changed), 5000):
        bind.execute(
            sa.text("UPDATE enterprise SET name_normalized = :n WHERE id = :i"),
            changed[start : start + 5000],
        )


def downgrade() -> None:
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.drop_column('share_with_banks')

    with op.batch_alter_table('list_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_list_entry_match_decision')
        batch_op.drop_index(batch_op.f('ix_list_entry_enterprise_id'))

    op.drop_table('list_entry')
    op.drop_table('release_item')
    op.drop_table('list_import')
    op.drop_table('library_release')
