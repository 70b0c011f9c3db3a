"""Documents: PDF only by content, at most 10 MB, kept in the database with a checksum, given
only to the provider itself and administrators."""

import hashlib
import io
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests import factories
from tests.conftest import AuthActions, IsolatedClient, csrf_token_from
from tests.providers.conftest import PASSWORD, draft, login, pdf_bytes
from voucher import create_app
from voucher.accounts.models import Role
from voucher.alerts.models import OperatorAlert
from voucher.audit.services import Actor
from voucher.providers import documents
from voucher.providers.models import DocumentKind, ProviderDocument, ProviderDocumentContent

PAGE = "/provider/application/documents"


def _upload(client, data: bytes, *, name="todistus.pdf", kind="insurance_certificate",
            valid_until="2027-06-30"):
    token = csrf_token_from(client.get(PAGE))
    return client.post(PAGE, data={"csrf_token": token, "kind": kind, "valid_until": valid_until,
                                   "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


@pytest.fixture
def provider_client(client, db, auth):
    provider, user = draft(db)
    db.commit()
    login(auth, user)
    return provider


def _files_outside_the_database(tmp_path) -> list[Path]:
    """Every file the test left on disk, apart from the SQLite database itself: the upload
    directory, the instance folder, anything else under the test's folder."""
    return sorted(path for path in tmp_path.rglob("*")
                  if path.is_file() and not path.name.startswith("test.sqlite3"))


def _stored(db) -> tuple[int, int]:
    """How many document rows and content rows there are (committed)."""
    db.rollback()
    return (db.execute(sa.select(sa.func.count()).select_from(ProviderDocument)).scalar(),
            db.execute(sa.select(sa.func.count()).select_from(ProviderDocumentContent)).scalar())


def test_a_pdf_is_stored_in_the_database_and_given_back_checked(client, db, app, tmp_path,
                                                                 provider_client):
    data = pdf_bytes("Vakuutustodistus")
    response = _upload(client, data, name="../../Vakuutus 2027.pdf")
    assert response.status_code == 303
    db.rollback()
    document = db.execute(sa.select(ProviderDocument)).scalar_one()
    assert document.original_filename == "Vakuutus 2027.pdf"
    assert document.kind == DocumentKind.INSURANCE_CERTIFICATE
    assert str(document.valid_until) == "2027-06-30"
    assert document.stored_name is None
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    content = db.get(ProviderDocumentContent, document.id)
    assert content.content == data and content.size_bytes == len(data) == document.size_bytes
    assert content.sha256 == document.sha256
    assert _files_outside_the_database(tmp_path) == []  # nothing on this host's disk
    download = client.get(f"/documents/{document.id}")
    assert download.status_code == 200
    assert download.data == data
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "Vakuutus 2027.pdf" in download.headers["Content-Disposition"]
    assert download.headers["Content-Length"] == str(len(data))
    assert download.headers["ETag"] == f'"{document.sha256}"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]
    again = client.get(f"/documents/{document.id}",
                       headers={"If-None-Match": f'"{document.sha256}"'})
    assert again.status_code == 304 and again.data == b""


def test_listing_documents_does_not_load_their_bytes(db, app):
    provider, user = draft(db)
    documents.store_document(db, provider, actor=Actor.of_user(user), kind=DocumentKind.OTHER,
                             valid_until=None, filename="x.pdf", data=pdf_bytes())
    db.commit()
    db.expunge_all()
    statements = []
    engine = db.get_bind()
    listener = lambda _c, _cur, statement, *_a: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        listed = db.execute(sa.select(ProviderDocument)).scalars().all()
        assert [d.original_filename for d in listed] == ["x.pdf"]
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert statements and all("provider_document_contents" not in s for s in statements)


def test_a_document_uploaded_on_one_server_downloads_from_another(
        app_config, client, db, app, auth, tmp_path):
    """Two app servers over one database, each with its own disk: nothing lives on one."""
    _provider, user = draft(db)
    db.commit()
    login(auth, user)
    data = pdf_bytes("Toinen palvelin")
    assert _upload(client, data).status_code == 303
    db.rollback()
    document = db.execute(sa.select(ProviderDocument)).scalar_one()
    assert _files_outside_the_database(tmp_path) == []
    other_host = tmp_path / "other-host"
    other = create_app({**app_config, "UPLOAD_DIR": str(other_host / "uploads"),
                        "INSTANCE_PATH": str(other_host / "instance")})
    other.test_client_class = IsolatedClient
    try:
        other_client = other.test_client()
        assert AuthActions(other_client).login(user.email, PASSWORD).status_code == 303
        download = other_client.get(f"/documents/{document.id}")
        assert download.status_code == 200
        assert download.data == data
        assert download.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    finally:
        other.extensions["voucher.engine"].dispose()


def test_damaged_content_is_refused_logged_and_alerted(client, db, app, auth, caplog):
    provider, user = draft(db)
    document = documents.store_document(
        db, provider, actor=Actor.of_user(user), kind=DocumentKind.OTHER, valid_until=None,
        filename="x.pdf", data=pdf_bytes())
    factories.user(db, role=Role.ADMIN)
    db.commit()
    damaged = bytearray(pdf_bytes())
    damaged[100] ^= 0xFF  # one flipped byte: same size, another checksum
    db.execute(sa.update(ProviderDocumentContent).values(content=bytes(damaged)))
    db.commit()
    login(auth, user)
    caplog.set_level(logging.ERROR, logger="voucher.providers.documents")
    response = client.get(f"/documents/{document.id}")
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Tallennettu asiakirja on vioittunut" in response.get_data(as_text=True)
    assert bytes(damaged) not in response.data
    assert any("checksum mismatch" in r.getMessage() for r in caplog.records)
    db.rollback()
    [alert] = db.execute(sa.select(OperatorAlert)).scalars().all()
    assert alert.kind == "document_damaged"
    assert alert.details == {"document_id": document.id, "provider_id": provider.id}
    assert client.get(f"/documents/{document.id}").status_code == 500  # one alert, not two
    db.rollback()
    assert db.execute(sa.select(sa.func.count()).select_from(OperatorAlert)).scalar() == 1


def test_a_file_renamed_pdf_is_refused_and_the_choices_are_kept(client, db, app, tmp_path,
                                                                  provider_client):
    response = _upload(client, b"\x89PNG\r\n\x1a\n" + b"0" * 500, name="kuva.pdf",
                       kind="self_monitoring_plan", valid_until="2027-01-31")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Tiedosto ei ole PDF-asiakirja." in html
    assert 'id="file-error"' in html
    assert '<option selected value="self_monitoring_plan">' in html or \
        'value="self_monitoring_plan" selected' in html
    assert 'value="2027-01-31"' in html
    assert _stored(db) == (0, 0)
    assert _files_outside_the_database(tmp_path) == []


@pytest.mark.parametrize("data", [
    b"%PDF-1.4\n" + b"x" * 100,  # a header and nothing else
    pdf_bytes()[:-200],  # cut short: no trailer
    b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\nstartxref\n999999\n%%EOF\n",  # offset outside the file
    b"Hello %PDF-1.4",
])
def test_the_structural_check_refuses_what_only_looks_like_a_pdf(data):
    assert documents.is_pdf(data) is False


def test_the_structural_check_accepts_real_pdfs():
    assert documents.is_pdf(pdf_bytes())
    from voucher.pdf import PdfDocument

    document = PdfDocument("Päätös")
    document.paragraph("Åäö €")
    assert documents.is_pdf(document.output())


def test_a_50_mb_file_gets_a_clear_error_not_a_raw_413(client, db, app, tmp_path,
                                                        provider_client):
    big = b"%PDF-1.4\n" + b"0" * (50 * 1024 * 1024)
    response = _upload(client, big, name="iso.pdf")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Tiedoston koko on 50 Mt, ja suurin sallittu koko on 10 Mt." in html
    assert 'id="file-error"' in html
    assert _stored(db) == (0, 0)
    assert _files_outside_the_database(tmp_path) == []


def test_one_byte_over_the_limit_is_refused_and_the_limit_itself_is_kept(
        client, db, app, tmp_path, provider_client):
    exact = pdf_bytes("Rajalla")
    app.config["MAX_UPLOAD_BYTES"] = len(exact)
    assert _upload(client, exact).status_code == 303
    assert _stored(db) == (1, 1)
    response = _upload(client, exact + b"\n", name="yli.pdf")
    assert response.status_code == 422
    assert 'id="file-error"' in response.get_data(as_text=True)
    assert _stored(db) == (1, 1)
    assert _files_outside_the_database(tmp_path) == []


def test_reading_an_upload_stops_after_the_limit():
    class Endless(io.RawIOBase):
        """A stream that never ends and cannot seek: reading it all would never return."""

        served = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[:] = b"0" * len(buffer)
            self.served += len(buffer)
            return len(buffer)

    stream = Endless()
    with pytest.raises(documents.FileTooLarge):
        documents.read_upload(stream, 1000)
    assert stream.served == 1001
    upload = documents.read_upload(io.BytesIO(b"x" * 200_000), 300_000)
    assert upload.data == b"x" * 200_000
    assert upload.sha256 == hashlib.sha256(b"x" * 200_000).hexdigest()


def test_an_upload_whose_commit_fails_leaves_nothing(client, db, app, tmp_path,
                                                    provider_client):
    token = csrf_token_from(client.get(PAGE))

    def fail(session):
        if session is not db:
            raise sa.exc.OperationalError("COMMIT", None, Exception("the server went away"))

    event.listen(sa.orm.Session, "before_commit", fail)
    try:
        response = client.post(PAGE, data={
            "csrf_token": token, "kind": "other", "valid_until": "",
            "file": (io.BytesIO(pdf_bytes("Ei tallennu")), "x.pdf")},
            content_type="multipart/form-data")
    finally:
        event.remove(sa.orm.Session, "before_commit", fail)
    assert response.status_code == 503
    assert _stored(db) == (0, 0)
    assert _files_outside_the_database(tmp_path) == []


def test_above_the_hard_request_limit_the_upload_page_explains(app_config, client, db, app,
                                                                 auth, tmp_path):
    app.config["MAX_UPLOAD_BYTES"] = 1024 * 1024
    app.config["MAX_CONTENT_LENGTH"] = 6 * 1024 * 1024
    _provider, user = draft(db)
    db.commit()
    login(auth, user)
    response = _upload(client, b"%PDF-1.4\n" + b"0" * (7 * 1024 * 1024), name="valtava.pdf")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "suurin sallittu koko on 1 Mt" in html
    assert "Lisää asiakirja" in html  # the upload form is there to try again
    assert _stored(db) == (0, 0)
    assert _files_outside_the_database(tmp_path) == []


def test_another_providers_documents_cannot_be_opened_or_removed(client, db, app, auth):
    owner, _owner_user = draft(db)
    foreign = documents.store_document(
        db, owner, actor=Actor.system("test"), kind=DocumentKind.SELF_MONITORING_PLAN,
        valid_until=None, filename="oma.pdf", data=pdf_bytes())
    _provider, intruder = draft(db)
    db.commit()
    login(auth, intruder)
    for document_id in (foreign.id, foreign.id + 1, 999):
        assert client.get(f"/documents/{document_id}").status_code == 404
    token = csrf_token_from(client.get(PAGE))
    response = client.post(f"{PAGE}/{foreign.id}/remove", data={"csrf_token": token})
    assert response.status_code == 404
    db.rollback()
    assert db.get(ProviderDocument, foreign.id).removed_at is None


@pytest.mark.parametrize("role", [Role.CASE_MANAGER, Role.CLIENT])
def test_staff_and_clients_other_than_admins_are_refused_documents(client, db, app, auth, role):
    owner, _user = draft(db)
    document = documents.store_document(
        db, owner, actor=Actor.system("test"), kind=DocumentKind.OTHER, valid_until=None,
        filename="x.pdf", data=pdf_bytes())
    holder = factories.client(db) if role == Role.CLIENT else None
    other = factories.user(db, role=role, client_id=holder.id if holder else None)
    db.commit()
    assert client.get(f"/documents/{document.id}").status_code == 302  # anonymous: log in
    auth.login(other.email, factories.PASSWORD)
    assert client.get(f"/documents/{document.id}").status_code == 403  # a wrong role
    auth.logout()
    db.rollback()
    admin = factories.user(db, role=Role.ADMIN)
    db.commit()
    auth.login(admin.email, factories.PASSWORD)
    assert client.get(f"/documents/{document.id}").status_code == 200


def test_a_new_document_of_a_kind_replaces_the_earlier_one(db, app):
    provider, user = draft(db)
    args = dict(actor=Actor.of_user(user), kind=DocumentKind.INSURANCE_CERTIFICATE,
                valid_until=None, filename="v.pdf", data=pdf_bytes())
    first = documents.store_document(db, provider, **args)
    second = documents.store_document(db, provider, **args)
    assert first.removed_at is not None and second.removed_at is None


def test_a_rolled_back_upload_leaves_nothing(db, app, tmp_path):
    provider, user = draft(db)
    db.commit()
    documents.store_document(db, provider, actor=Actor.of_user(user), kind=DocumentKind.OTHER,
                             valid_until=None, filename="x.pdf", data=pdf_bytes())
    assert db.execute(sa.select(sa.func.count()).select_from(ProviderDocumentContent)
                      ).scalar() == 1
    db.rollback()
    assert _stored(db) == (0, 0)
    assert _files_outside_the_database(tmp_path) == []
