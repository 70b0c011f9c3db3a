"""Provider documents: PDF only (checked by content, not by name), size-limited, kept in the
database, and given only to the provider itself and administrators.

The bytes go into ProviderDocumentContent in the same transaction as the document's row, so
every app server sees them, a backup is one database dump, and an upload that is refused or
whose commit fails leaves nothing behind. Each download checks the bytes against the checksum
taken while the upload was read. Documents uploaded while they were files on one host are moved
in by ``documents import-files`` (document_files.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock, db
from voucher.accounts.models import Role, User
from voucher.alerts.services import raise_alert, register_kind
from voucher.audit.services import Actor, record_event
from voucher.errors import DomainError, NotFound
from voucher.i18n import current_language
from voucher.providers.application import ensure_editable
from voucher.providers.models import (
    DocumentKind,
    Provider,
    ProviderDocument,
    ProviderDocumentContent,
)

log = logging.getLogger(__name__)

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")
#: How much of an upload is read at a time.
CHUNK_BYTES = 64 * 1024

DOCUMENT_DAMAGED = register_kind("document_damaged", _l(
    "The stored content of document %(document_id)s of provider %(provider_id)s does not match "
    "its checksum. It is not given out; restore it from a backup or ask the provider to upload "
    "it again."))


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


class DocumentUnavailable(DomainError):
    """A document uploaded while documents were files, not yet moved into the database."""

    code = "document_unavailable"
    status = 404
    message = _l("The content of this document is not available yet. The administrator can "
                 "move it into the service; try again later.")


class DocumentDamaged(DomainError):
    code = "document_damaged"
    status = 500
    message = _l("The stored document is damaged, so it is not given out. The administrators "
                 "have been alerted; nothing was changed.")


@dataclass(frozen=True)
class Upload:
    """An uploaded file read into memory, with the checksum taken while it was read."""

    data: bytes
    sha256: str


def read_upload(stream: BinaryIO, max_bytes: int) -> Upload:
    """The uploaded bytes, read in chunks and checksummed on the way; FileTooLarge, without
    keeping more than the limit, when there are more than ``max_bytes``."""
    digest, parts, size = hashlib.sha256(), [], 0
    while chunk := stream.read(min(CHUNK_BYTES, max_bytes + 1 - size)):
        size += len(chunk)
        if size > max_bytes:
            raise FileTooLarge(field="file", size=megabytes(_whole_size(stream, size)),
                               limit=megabytes(max_bytes))
        digest.update(chunk)
        parts.append(chunk)
    return Upload(b"".join(parts), digest.hexdigest())


def _whole_size(stream: BinaryIO, read: int) -> int:
    """The upload's size for the error message (Werkzeug spools it, so it can seek)."""
    try:
        stream.seek(0, os.SEEK_END)
        return max(stream.tell(), read)
    except (AttributeError, OSError, ValueError):
        return read


def store_document(
    session: Session, provider: Provider, *, actor: Actor, kind: DocumentKind,
    valid_until: dt.date | None, filename: str, data: bytes, sha256: str | None = None,
) -> ProviderDocument:
    """Keep an uploaded PDF. A new document of a kind other than "other" replaces the earlier
    one of that kind, which stays on record as what was reviewed. ``sha256`` is the checksum
    read_upload took; without it the bytes are hashed here."""
    ensure_editable(provider)
    now = clock.now()
    if kind != DocumentKind.OTHER:
        for earlier in provider.documents:
            if earlier.kind == kind and earlier.removed_at is None:
                earlier.removed_at = now
    document = add_document(session, provider, kind=kind, valid_until=valid_until,
                            filename=filename, data=data, sha256=sha256, uploaded_at=now,
                            uploaded_by_user_id=actor.user_id)
    record_event(session, actor, "provider.document_uploaded", "provider", provider.id,
                 document_id=document.id, kind=str(kind), size_bytes=len(data))
    return document


def add_document(
    session: Session, provider: Provider, *, kind: DocumentKind, valid_until: dt.date | None,
    filename: str, data: bytes, uploaded_at: dt.datetime, uploaded_by_user_id: int | None,
    sha256: str | None = None,
) -> ProviderDocument:
    """The document's row and its content, after the PDF check: the one way a document is
    made (the upload above; the demo, which records documents of providers already past the
    application)."""
    if not is_pdf(data):
        raise NotAPdf(field="file")
    sha256 = sha256 or hashlib.sha256(data).hexdigest()
    document = ProviderDocument(
        provider_id=provider.id, kind=kind, original_filename=_safe_name(filename),
        stored_name=None, size_bytes=len(data), sha256=sha256, valid_until=valid_until,
        uploaded_at=uploaded_at, uploaded_by_user_id=uploaded_by_user_id)
    session.add(document)
    provider.documents.append(document)
    session.flush()
    session.add(ProviderDocumentContent(document_id=document.id, content=data,
                                        size_bytes=len(data), sha256=sha256,
                                        created_at=clock.now()))
    session.flush()
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


def document_content(session: Session, document: ProviderDocument) -> bytes:
    """The document's bytes, checked against its checksum. Damaged bytes are never given out:
    the error is logged and the administrators alerted (in a unit of its own, as the request
    that asked is refused)."""
    content = session.get(ProviderDocumentContent, document.id)
    if content is None:
        log.warning("document %s has no content in the database (documents import-files "
                    "has not moved its file)", document.id)
        raise DocumentUnavailable()
    data = content.content
    actual = hashlib.sha256(data).hexdigest()
    session.expunge(content)  # the bytes are not kept in the session's identity map
    if actual != content.sha256 or actual != document.sha256 or len(data) != content.size_bytes:
        log.error("document %s: checksum mismatch (stored %s, computed %s, %s of %s bytes)",
                  document.id, document.sha256, actual, len(data), content.size_bytes)
        document_id, provider_id = document.id, document.provider_id

        def alert(unit: Session) -> None:
            raise_alert(unit, kind=DOCUMENT_DAMAGED, key=f"document_damaged:{document_id}",
                        document_id=document_id, provider_id=provider_id)

        db.keep_despite_refusal(alert)
        raise DocumentDamaged()
    return data


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
