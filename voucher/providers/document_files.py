"""Moving the documents uploaded while they were files on one host (UPLOAD_DIR, before
migration 0009) into the database: ``flask --app voucher documents import-files``.

Each file is checked against the size and checksum recorded at its upload before its bytes are
stored; a document already in the database is left alone, so the command can be run again (and
resumed after a failure). Files are deleted only on request, and only after the commit that
holds their bytes.
"""

from __future__ import annotations

import enum
import hashlib
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock, db
from voucher.audit.services import Actor, record_event
from voucher.providers.models import ProviderDocument, ProviderDocumentContent


class FileOutcome(enum.StrEnum):
    IMPORTED = "imported"
    ALREADY_IN_DATABASE = "already in the database"
    MISSING = "missing"
    DAMAGED = "damaged"


def file_backed_document_ids(session: Session) -> list[int]:
    """Every document that has a file name (uploaded before 0009), oldest first."""
    return list(session.execute(
        sa.select(ProviderDocument.id).where(ProviderDocument.stored_name.is_not(None))
        .order_by(ProviderDocument.id)).scalars())


def import_document_file(session: Session, document_id: int, upload_dir: str | Path, *,
                         dry_run: bool = False, delete: bool = False) -> FileOutcome:
    """Store one file-backed document's bytes in the database if its file matches the size
    and checksum recorded at the upload. ``delete`` removes the file once the bytes are
    committed (a document already in the database: once its stored bytes match the file)."""
    document = session.get(ProviderDocument, document_id)
    path = Path(upload_dir) / document.stored_name
    stored = session.execute(sa.select(ProviderDocumentContent.sha256).where(
        ProviderDocumentContent.document_id == document_id)).scalar()
    if stored is not None:
        if delete and not dry_run and path.is_file() and _sha256(path) == stored:
            db.after_commit(session, lambda: path.unlink(missing_ok=True))
        return FileOutcome.ALREADY_IN_DATABASE
    if not path.is_file():
        return FileOutcome.MISSING
    data = path.read_bytes()
    if len(data) != document.size_bytes or hashlib.sha256(data).hexdigest() != document.sha256:
        return FileOutcome.DAMAGED
    if dry_run:
        return FileOutcome.IMPORTED
    session.add(ProviderDocumentContent(document_id=document.id, content=data,
                                        size_bytes=len(data), sha256=document.sha256,
                                        created_at=clock.now()))
    session.flush()
    record_event(session, Actor.system("documents import-files"), "provider.document_imported",
                 "provider", document.provider_id, document_id=document.id,
                 size_bytes=len(data))
    if delete:
        db.after_commit(session, lambda: path.unlink(missing_ok=True))
    return FileOutcome.IMPORTED


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
