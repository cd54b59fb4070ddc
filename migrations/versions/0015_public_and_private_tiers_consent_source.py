"""public and private tiers; consent with its source

enterprise: how its choice about sharing private facts with banks was recorded (by itself, or
by the office from a signed 入库申报 form: who, when, the form's reference and date). Every
enterprise that shares today chose it itself (the office could not record it), so those rows
get source `enterprise`, recorded at their last change.

project.listed_in: the key-project list a project is on; its name, unit, year and investment
are then public facts. Projects that a list import added carry their list's title.

Releases keep the public facts of every enterprise and listed project for every bank, and the
private facts for the consenting ones: release_item.public_digest is the digest of an item's
public facts (null: none), library_release counts the public and private-only projects. Items
published before this kept public facts only, so an enterprise item's public digest is its
digest; a project item then carried a financing need (a private fact) and is private.

Columns are added in place (see 0011 on why not in batch mode on SQLite).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-12 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ('enterprise', sa.Column('consent_source', sa.String(length=16), nullable=True)),
    ('enterprise', sa.Column('consent_recorded_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)),
    ('enterprise', sa.Column('consent_recorded_at', sa.DateTime(timezone=True), nullable=True)),
    ('enterprise', sa.Column('consent_form_ref', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)),
    ('enterprise', sa.Column('consent_form_signed_on', sa.Date(), nullable=True)),
    ('project', sa.Column('listed_in', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)),
    ('release_item', sa.Column('public_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)),
    ('library_release', sa.Column('public_projects', sa.Integer(), nullable=False, server_default='0')),
    ('library_release', sa.Column('private_projects', sa.Integer(), nullable=False, server_default='0')),
)


def upgrade() -> None:
    for table, column in _COLUMNS:
        op.add_column(table, column)
    op.execute(
        "UPDATE enterprise SET consent_source = 'enterprise', "
        "consent_recorded_by = 'enterprise:' || id, consent_recorded_at = updated_at "
        'WHERE share_with_banks'
    )
    op.execute(
        'UPDATE project SET listed_in = (SELECT MIN(i.title) FROM list_entry e '
        'JOIN list_import i ON i.id = e.import_id WHERE e.applied_project_id = project.id)'
    )
    op.execute("UPDATE release_item SET public_digest = digest WHERE kind = 'enterprise'")
    op.execute(
        'UPDATE library_release SET private_projects = shared_projects'
    )


def downgrade() -> None:
    for table, column in reversed(_COLUMNS):
        op.drop_column(table, column.name)
