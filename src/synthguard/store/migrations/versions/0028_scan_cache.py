"""scan cache and deep-scan uploads: the verdict cache and the uploads attached to a deep scan (issue 28)

Revision ID: 0028
Revises: 0007
Create Date: 2026-12-06 08:30:00
"""
from alembic import op
import sqlalchemy as sa
import synthguard.store.base


revision = '0028'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scan_cache',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('search', sa.String(length=8), nullable=False),
    sa.Column('analysis', sa.JSON(), nullable=False),
    sa.Column('created_at', synthguard.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_scan_cache'))
    )
    with op.batch_alter_table('scan_cache', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scan_cache_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_cache_created_at'), ['created_at'], unique=False)
    op.create_table('deep_scan_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=32), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('declared_ai', sa.Boolean(), nullable=False),
    sa.Column('content_ref', sa.String(length=128), nullable=True),
    sa.Column('callback_url', sa.Text(), nullable=True),
    sa.Column('created_at', synthguard.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', synthguard.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('ledger_index', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deep_scan_uploads'))
    )
    with op.batch_alter_table('deep_scan_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deep_scan_uploads_job_id'), ['job_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deep_scan_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deep_scan_uploads_job_id'))
    op.drop_table('deep_scan_uploads')
    with op.batch_alter_table('scan_cache', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scan_cache_created_at'))
        batch_op.drop_index(batch_op.f('ix_scan_cache_sha256'))
    op.drop_table('scan_cache')
