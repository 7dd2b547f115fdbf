"""hash_bank_entries.data: long fingerprints in banks (issue 20: vPDQ video and audio landmark banks)

`hash` stays the short indexed key (the hash itself, or SHA-256 of a long fingerprint, used for duplicates and
removal); `data` holds the long fingerprint (Meta's vPDQ exchange JSON, or the audio landmarks' hex).

Revision ID: 0020
Revises: 0003
Create Date: 2026-12-06 08:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('hash_bank_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('hash_bank_entries', schema=None) as batch_op:
        batch_op.drop_column('data')
