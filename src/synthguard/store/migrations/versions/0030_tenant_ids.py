"""per-tenant ids: users and consent subjects keep the id their tenant chose in ``name`` (issue 18 finding 13)

Until now a user's or a subject's id was its primary key, one namespace for the whole deployment: a tenant learnt
from a 409 that another tenant used an id, and could take ids first.  The primary key stays (records, verifications,
terms acceptances, templates, grants and challenges keep pointing at it, and the vault and the ledger pseudonyms
were derived from it), and ``name`` holds the id the tenant sees, unique per tenant.  Every existing row keeps its
id as both, so nothing is rewritten and every signed entry and vault key stays valid; new rows of tenants other than
``default`` get the key ``<tenant>/<id>`` (synthguard.identity.scoped_key).

Revision ID: 0030
Revises: 0005
Create Date: 2026-12-06 11:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0030'
down_revision = '0005'
branch_labels = None
depends_on = None

TABLES = ("users", "consent_subjects")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in TABLES:
        # NOT NULL with a default: SQLite adds it in place (rebuilding ``users`` would cascade-delete through the
        # foreign keys that point at it); the default is dropped where the backend can
        op.add_column(table, sa.Column('name', sa.String(length=128), nullable=False, server_default=''))
        op.execute(sa.text(f"UPDATE {table} SET name = id"))
        if not sqlite:
            op.alter_column(table, 'name', server_default=None, existing_type=sa.String(length=128),
                            existing_nullable=False)
        op.create_index(op.f(f'ix_{table}_name'), table, ['name'], unique=False)
        op.create_index(f'uq_{table}_tenant_name', table, ['tenant', 'name'], unique=True)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f'uq_{table}_tenant_name', table_name=table)
        op.drop_index(op.f(f'ix_{table}_name'), table_name=table)
        op.drop_column(table, 'name')  # in place (SQLite >= 3.35): no table rebuild, no cascades
