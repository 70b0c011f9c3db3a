"""`documents import-files`: the documents uploaded while they were files on one host move into
the database, checked against their recorded size and checksum; running it again changes
nothing."""

import hashlib
import secrets
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import FROZEN_NOW
from tests.providers.conftest import draft, pdf_bytes
from voucher.audit.models import AuditEvent
from voucher.providers.models import DocumentKind, ProviderDocument, ProviderDocumentContent


def file_backed_document(db, provider, upload_dir: Path, data: bytes) -> ProviderDocument:
    """A document as the file storage (before migration 0009) left it: a row with a random
    file name in the upload directory, and no content in the database."""
    upload_dir.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16) + ".pdf"
    (upload_dir / stored_name).write_bytes(data)
    document = ProviderDocument(
        provider_id=provider.id, kind=DocumentKind.OTHER, original_filename="vanha.pdf",
        stored_name=stored_name, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
        uploaded_at=FROZEN_NOW)
    db.add(document)
    db.flush()
    return document


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["documents", "import-files", *args])


def _contents(db) -> dict[int, bytes]:
    db.rollback()
    return {row.document_id: row.content
            for row in db.execute(sa.select(ProviderDocumentContent)).scalars()}


def test_files_move_into_the_database_once(app, db, tmp_path):
    uploads = Path(app.config["UPLOAD_DIR"])
    provider, _user = draft(db)
    first = file_backed_document(db, provider, uploads, pdf_bytes("Ensimmäinen"))
    second = file_backed_document(db, provider, uploads, pdf_bytes("Toinen"))
    db.commit()

    result = _run(app)
    assert result.exit_code == 0, result.output
    assert "imported 2, already in the database 0, missing 0, damaged 0" in result.output
    assert "can be deleted" in result.output
    assert _contents(db) == {first.id: pdf_bytes("Ensimmäinen"), second.id: pdf_bytes("Toinen")}
    assert len(list(uploads.iterdir())) == 2  # left in place
    actions = db.execute(sa.select(AuditEvent.action)).scalars().all()
    assert actions.count("provider.document_imported") == 2

    again = _run(app)
    assert again.exit_code == 0, again.output
    assert "imported 0, already in the database 2" in again.output
    assert len(_contents(db)) == 2
    assert db.execute(sa.select(AuditEvent.action)).scalars().all().count(
        "provider.document_imported") == 2


def test_an_imported_document_downloads_from_the_database(app, db, client, auth, tmp_path):
    from tests.providers.conftest import login

    uploads = tmp_path / "old-host-uploads"
    provider, user = draft(db)
    document = file_backed_document(db, provider, uploads, pdf_bytes("Vanha"))
    db.commit()
    login(auth, user)
    assert client.get(f"/documents/{document.id}").status_code == 404  # not imported yet

    result = _run(app, "--upload-dir", str(uploads), "--delete")
    assert result.exit_code == 0, result.output
    assert list(uploads.iterdir()) == []  # deleted once committed
    download = client.get(f"/documents/{document.id}")
    assert download.status_code == 200 and download.data == pdf_bytes("Vanha")


def test_a_dry_run_stores_nothing(app, db):
    uploads = Path(app.config["UPLOAD_DIR"])
    provider, _user = draft(db)
    file_backed_document(db, provider, uploads, pdf_bytes())
    db.commit()
    result = _run(app, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would import 1" in result.output
    assert _contents(db) == {}


def test_missing_and_damaged_files_are_reported_and_not_imported(app, db):
    uploads = Path(app.config["UPLOAD_DIR"])
    provider, _user = draft(db)
    good = file_backed_document(db, provider, uploads, pdf_bytes("Ehjä"))
    missing = file_backed_document(db, provider, uploads, pdf_bytes("Kadonnut"))
    damaged = file_backed_document(db, provider, uploads, pdf_bytes("Vioittunut"))
    db.commit()
    (uploads / missing.stored_name).unlink()
    data = bytearray((uploads / damaged.stored_name).read_bytes())
    data[50] ^= 0xFF
    (uploads / damaged.stored_name).write_bytes(bytes(data))

    result = _run(app, "--delete")
    assert result.exit_code == 1
    assert "imported 1, already in the database 0, missing 1, damaged 1" in result.output
    assert f"document {missing.id}: file missing" in result.output
    assert f"document {damaged.id}: file damaged" in result.output
    assert set(_contents(db)) == {good.id}
    assert (uploads / damaged.stored_name).exists()  # a damaged file is never deleted


def test_documents_uploaded_into_the_database_are_not_touched(app, db):
    from voucher.audit.services import Actor
    from voucher.providers import documents

    provider, user = draft(db)
    documents.store_document(db, provider, actor=Actor.of_user(user), kind=DocumentKind.OTHER,
                             valid_until=None, filename="uusi.pdf", data=pdf_bytes())
    db.commit()
    result = _run(app)
    assert result.exit_code == 0, result.output
    assert "imported 0, already in the database 0, missing 0, damaged 0" in result.output
