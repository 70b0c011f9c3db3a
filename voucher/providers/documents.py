"""Provider documents: PDF only (checked by content, not by name), size-limited, stored outside
the web root under random names, and given only to the provider itself and administrators.

A file is written before the transaction commits; if the transaction rolls back, the file is
deleted again, so no file is left without its row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import Role, User
from voucher.audit.services import Actor, record_event
from voucher.errors import DomainError, NotFound
from voucher.i18n import current_language
from voucher.providers.application import ensure_editable
from voucher.providers.models import DocumentKind, Provider, ProviderDocument

_WRITTEN = "provider_documents_written"
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")


class NotAPdf(DomainError):
    code = "not_a_pdf"
    status = 422
    message = _l("The file is not a PDF document. Save or print it as a PDF and upload it "
                 "again.")


class FileTooLarge(DomainError):
    code = "file_too_large"
    status = 422
    message = _l("The file is %(size)s MB, and the largest allowed is %(limit)s MB. Make the "
                 "file smaller (for example, scan at a lower resolution) and upload it again.")


def megabytes(size: int) -> str:
    """A size in megabytes as the reader writes numbers: 10, 0,4 (fi, sv), 0.4 (en)."""
    return format_decimal(Decimal(size) / (1024 * 1024), format="#,##0.#",
                          locale=current_language())


def is_pdf(data: bytes) -> bool:
    """A structural check of a PDF: the header, the trailer's ``startxref … %%EOF``, a
    cross-reference (table or stream) at the offset it names, and at least one object.
    A file merely named .pdf, or cut short, fails it."""
    if not re.match(rb"%PDF-\d\.\d", data[:16]):
        return False
    found = _STARTXREF.search(data[-2048:])
    if found is None:
        return False
    offset = int(found.group(1))
    if offset >= len(data):
        return False
    at = data[offset:offset + 64].lstrip()
    if not (at.startswith(b"xref") or _OBJECT.match(at)):
        return False
    return _OBJECT.search(data) is not None and b"endobj" in data


def read_upload(stream: BinaryIO, max_bytes: int) -> bytes:
    """The uploaded bytes, or FileTooLarge without reading more than the limit."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        stream.seek(0, os.SEEK_END)
        raise FileTooLarge(field="file", size=megabytes(stream.tell()),
                           limit=megabytes(max_bytes))
    return data


def store_document(
    session: Session, provider: Provider, *, actor: Actor, kind: DocumentKind,
    valid_until: dt.date | None, filename: str, data: bytes, upload_dir: str,
) -> ProviderDocument:
    """Keep an uploaded PDF. A new document of a kind other than "other" replaces the earlier
    one of that kind, which stays on record as what was reviewed."""
    ensure_editable(provider)
    if not is_pdf(data):
        raise NotAPdf(field="file")
    directory = Path(upload_dir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    stored_name = secrets.token_hex(16) + ".pdf"
    path = directory / stored_name
    temporary = directory / (stored_name + ".part")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    session.info.setdefault(_WRITTEN, []).append(path)
    now = clock.now()
    if kind != DocumentKind.OTHER:
        for earlier in provider.documents:
            if earlier.kind == kind and earlier.removed_at is None:
                earlier.removed_at = now
    document = ProviderDocument(
        provider_id=provider.id, kind=kind, original_filename=_safe_name(filename),
        stored_name=stored_name, size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(), valid_until=valid_until, uploaded_at=now,
        uploaded_by_user_id=actor.user_id)
    session.add(document)
    provider.documents.append(document)
    session.flush()
    record_event(session, actor, "provider.document_uploaded", "provider", provider.id,
                 document_id=document.id, kind=str(kind), size_bytes=len(data))
    return document


def _safe_name(filename: str) -> str:
    """The uploaded name, for showing and for the download: no path, no control characters."""
    name = Path((filename or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|')[:200].strip()
    if not name.lower().endswith(".pdf"):
        name = (name or "document") + ".pdf"
    return name


def find_document(session: Session, document_id: int, *, user: User) -> ProviderDocument:
    """A document for an administrator or a user of its own provider; 404 for anyone else."""
    document = session.get(ProviderDocument, document_id)
    if document is None:
        raise NotFound()
    if user.role == Role.ADMIN:
        return document
    if user.role == Role.PROVIDER and user.provider_id == document.provider_id:
        return document
    raise NotFound()


def document_path(upload_dir: str, document: ProviderDocument) -> Path:
    return Path(upload_dir) / document.stored_name


def remove_document(session: Session, provider: Provider, document_id: int, *,
                    actor: Actor) -> None:
    """Take a document out of the application; it stays on record."""
    ensure_editable(provider)
    document = session.execute(sa.select(ProviderDocument).where(
        ProviderDocument.id == document_id, ProviderDocument.provider_id == provider.id,
    )).scalar_one_or_none()
    if document is None or document.removed_at is not None:
        raise NotFound()
    document.removed_at = clock.now()
    record_event(session, actor, "provider.document_removed", "provider", provider.id,
                 document_id=document.id, kind=str(document.kind))


@event.listens_for(Session, "after_soft_rollback")
def _delete_files_of_rolled_back_uploads(session: Session, transaction) -> None:
    if transaction.nested:
        return
    for path in session.info.pop(_WRITTEN, []):
        Path(path).unlink(missing_ok=True)


@event.listens_for(Session, "after_commit")
def _keep_files_of_committed_uploads(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
