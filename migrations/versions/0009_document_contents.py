"""Provider documents' bytes in the database (provider_document_contents).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:30:00.000000

The files of documents uploaded before this revision stay where they are: a migration never
reads a host's disk. `flask --app voucher documents import-files` moves them into the new table
(run it once after this upgrade, on the host that has the files); until then those documents
answer 404. New documents get no file name (stored_name is NULL).

A downgrade drops the table and with it every document's content (the records stay).
"""

from alembic import op
import sqlalchemy as sa
import voucher.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('provider_document_contents',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size_bytes >= 0', name=op.f('ck_provider_document_contents_size_not_negative')),
    sa.ForeignKeyConstraint(['document_id'], ['provider_documents.id'], name=op.f('fk_provider_document_contents_document_id_provider_documents')),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_provider_document_contents'))
    )
    with op.batch_alter_table('provider_documents', schema=None) as batch_op:
        batch_op.alter_column('stored_name', existing_type=sa.String(length=64), nullable=True)


def downgrade() -> None:
    op.drop_table('provider_document_contents')
    # Documents uploaded after the upgrade had no file: they keep their record under a name
    # that no file has (the older code answers 404 for them).
    op.execute("UPDATE provider_documents SET stored_name = 'in-database-' || id "
               "WHERE stored_name IS NULL")
    with op.batch_alter_table('provider_documents', schema=None) as batch_op:
        batch_op.alter_column('stored_name', existing_type=sa.String(length=64), nullable=False)
