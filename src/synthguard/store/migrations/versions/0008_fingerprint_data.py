"""fingerprints.data: perceptual fingerprints longer than an index key (audio landmarks, per-frame video PDQ)

`value` stays a short, indexed key (the hash itself, or SHA-256 of a long fingerprint); `data` holds the long
fingerprint. Postgres enforced VARCHAR(128) where SQLite did not (found by `make test-postgres`).

Revision ID: 0008
Revises: 0003
Create Date: 2026-11-22 04:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('fingerprints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fingerprints', schema=None) as batch_op:
        batch_op.drop_column('data')
