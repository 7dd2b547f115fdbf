"""likeness registry (DS-15): consent subjects, encrypted biometric templates, grants, spoken-consent challenges

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-22 03:10:00
"""
from datetime import datetime

from alembic import op
import sqlalchemy as sa
import synthguard.store.base


revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, synthguard.store.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table('consent_subjects',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('protected', sa.Boolean(), nullable=False),
    sa.Column('keep_media', sa.Boolean(), nullable=False),
    sa.Column('signing_key', sa.Text(), nullable=True),
    _ts('created_at'),
    _ts('erased_at', True),
    sa.Column('erasure_index', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_subjects'))
    )
    with op.batch_alter_table('consent_subjects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_subjects_tenant'), ['tenant'], unique=False)

    op.create_table('consent_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.String(length=128), nullable=False),
    sa.Column('modality', sa.String(length=8), nullable=False),
    sa.Column('model', sa.String(length=64), nullable=False),
    sa.Column('model_sha256', sa.String(length=64), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('media_token', sa.Text(), nullable=True),
    _ts('created_at'),
    sa.ForeignKeyConstraint(['subject_id'], ['consent_subjects.id'], name=op.f('fk_consent_templates_subject_id_consent_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_templates'))
    )
    with op.batch_alter_table('consent_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_templates_subject_id'), ['subject_id'], unique=False)

    op.create_table('consent_grants',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.String(length=128), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('grantee', sa.String(length=128), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('modalities', sa.JSON(), nullable=False),
    sa.Column('scope_token', sa.Text(), nullable=True),
    _ts('expires_at', True),
    _ts('created_at'),
    _ts('revoked_at', True),
    sa.Column('revoked_reason', sa.String(length=64), nullable=True),
    sa.Column('evidence_kind', sa.String(length=16), nullable=False),
    sa.Column('evidence_sha256', sa.String(length=64), nullable=False),
    sa.Column('evidence_token', sa.Text(), nullable=True),
    sa.Column('evidence_check', sa.JSON(), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.Column('ledger_index', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['subject_id'], ['consent_subjects.id'], name=op.f('fk_consent_grants_subject_id_consent_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_grants'))
    )
    with op.batch_alter_table('consent_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_grants_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_grants_tenant'), ['tenant'], unique=False)
        batch_op.create_index('ix_consent_grants_lookup', ['subject_id', 'grantee', 'purpose'], unique=False)

    op.create_table('consent_challenges',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.String(length=128), nullable=False),
    sa.Column('grantee', sa.String(length=128), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('phrase', sa.Text(), nullable=False),
    _ts('created_at'),
    _ts('expires_at'),
    _ts('used_at', True),
    sa.ForeignKeyConstraint(['subject_id'], ['consent_subjects.id'], name=op.f('fk_consent_challenges_subject_id_consent_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_challenges'))
    )
    with op.batch_alter_table('consent_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_challenges_subject_id'), ['subject_id'], unique=False)


def downgrade() -> None:
    for table, indexes in (
        ('consent_challenges', ['ix_consent_challenges_subject_id']),
        ('consent_grants', ['ix_consent_grants_lookup', 'ix_consent_grants_tenant', 'ix_consent_grants_subject_id']),
        ('consent_templates', ['ix_consent_templates_subject_id']),
        ('consent_subjects', ['ix_consent_subjects_tenant']),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in indexes:
                batch_op.drop_index(name)
        op.drop_table(table)
