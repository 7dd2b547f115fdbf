"""web_sessions: server-side sessions of the web pages (sign-in with an API token once; issue 22)

Revision ID: 0033
Revises: 0002
Create Date: 2026-12-06 11:45:00
"""
from alembic import op
import sqlalchemy as sa
import synthguard.store.base


revision = '0033'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid_hash', sa.String(length=64), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('created_at', synthguard.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', synthguard.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', synthguard.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', synthguard.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('sid_hash', name=op.f('uq_web_sessions_sid_hash'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_token_id'), ['token_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_sessions_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_expires_at'))
        batch_op.drop_index(batch_op.f('ix_web_sessions_token_id'))
    op.drop_table('web_sessions')
