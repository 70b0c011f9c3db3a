"""Documents: PDF only by content, at most 10 MB, random names outside the web root, given only
to the provider itself and administrators."""

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import csrf_token_from
from tests.providers.conftest import draft, login, pdf_bytes
from voucher.accounts.models import Role
from voucher.audit.services import Actor
from voucher.providers import documents
from voucher.providers.models import DocumentKind, ProviderDocument

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


def _stored(app) -> list[Path]:
    directory = Path(app.config["UPLOAD_DIR"])
    return sorted(directory.iterdir()) if directory.exists() else []


def test_a_pdf_is_stored_under_a_random_name_and_given_back_as_a_download(
        client, db, app, provider_client):
    data = pdf_bytes("Vakuutustodistus")
    response = _upload(client, data, name="../../Vakuutus 2027.pdf")
    assert response.status_code == 303
    db.rollback()
    document = db.execute(sa.select(ProviderDocument)).scalar_one()
    assert document.original_filename == "Vakuutus 2027.pdf"
    assert document.kind == DocumentKind.INSURANCE_CERTIFICATE
    assert str(document.valid_until) == "2027-06-30"
    [path] = _stored(app)
    assert path.name == document.stored_name and "Vakuutus" not in path.name
    assert path.read_bytes() == data
    download = client.get(f"/documents/{document.id}")
    assert download.status_code == 200
    assert download.data == data
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]


def test_a_file_renamed_pdf_is_refused_and_the_choices_are_kept(client, db, app,
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
    assert _stored(app) == []
    db.rollback()
    assert db.execute(sa.select(sa.func.count()).select_from(ProviderDocument)).scalar() == 0


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


def test_a_50_mb_file_gets_a_clear_error_not_a_raw_413(client, db, app, provider_client):
    big = b"%PDF-1.4\n" + b"0" * (50 * 1024 * 1024)
    response = _upload(client, big, name="iso.pdf")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Tiedoston koko on 50 Mt, ja suurin sallittu koko on 10 Mt." in html
    assert 'id="file-error"' in html
    assert _stored(app) == []


def test_above_the_hard_request_limit_the_upload_page_explains(app_config, client, db, app,
                                                                 auth):
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
    assert _stored(app) == []


def test_another_providers_documents_cannot_be_opened_or_removed(client, db, app, auth):
    owner, _owner_user = draft(db)
    foreign = documents.store_document(
        db, owner, actor=Actor.system("test"), kind=DocumentKind.SELF_MONITORING_PLAN,
        valid_until=None, filename="oma.pdf", data=pdf_bytes(),
        upload_dir=app.config["UPLOAD_DIR"])
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
        filename="x.pdf", data=pdf_bytes(), upload_dir=app.config["UPLOAD_DIR"])
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
                valid_until=None, filename="v.pdf", data=pdf_bytes(),
                upload_dir=app.config["UPLOAD_DIR"])
    first = documents.store_document(db, provider, **args)
    second = documents.store_document(db, provider, **args)
    assert first.removed_at is not None and second.removed_at is None


def test_a_rolled_back_upload_leaves_no_file(db, app):
    provider, user = draft(db)
    db.commit()
    documents.store_document(db, provider, actor=Actor.of_user(user), kind=DocumentKind.OTHER,
                             valid_until=None, filename="x.pdf", data=pdf_bytes(),
                             upload_dir=app.config["UPLOAD_DIR"])
    assert len(_stored(app)) == 1
    db.rollback()
    assert _stored(app) == []
