"""job queue: jobs with leases, retries and a dead-letter state (same DDL on SQLite and Postgres)

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-22 03:00:00
"""
from alembic import op
import sqlalchemy as sa
import synthguard.store.base


revision = '0007'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.JSON(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('run_after', synthguard.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_token', sa.String(length=32), nullable=True),
    sa.Column('leased_by', sa.String(length=128), nullable=True),
    sa.Column('lease_expires_at', synthguard.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', synthguard.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', synthguard.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', synthguard.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ledger_index', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('tenant', 'idempotency_key', name='uq_jobs_tenant_idempotency_key')
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_claim', ['state', 'run_after'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_tenant'), ['tenant'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_tenant'))
        batch_op.drop_index(batch_op.f('ix_jobs_created_at'))
        batch_op.drop_index('ix_jobs_claim')
    op.drop_table('jobs')
