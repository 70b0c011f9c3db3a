"""API keys in the provider portal: shown once, listed with last use, revoked."""

import re

import sqlalchemy as sa

from tests import factories
from tests.conftest import post_form
from voucher.accounts.models import Role
from voucher.api.models import ApiToken


def _login(db, auth, seller, email="sari@example.fi"):
    factories.user(db, role=Role.PROVIDER, provider_id=seller.id, email=email)
    db.commit()
    auth.login(email, factories.PASSWORD)


def test_a_key_is_shown_once_and_works(client, db, auth, seller):
    _login(db, auth, seller)
    assert "Ei vielä avaimia." in client.get("/provider/api-keys/").get_data(as_text=True)
    response = post_form(client, "/provider/api-keys/", {"name": "Hoitonetti"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = re.search(r'value="(vch_[^"]+)"', response.get_data(as_text=True)).group(1)
    db.rollback()
    row = db.execute(sa.select(ApiToken)).scalar_one()
    assert row.token_hash != token and token not in row.prefix + row.token_hash
    listing = client.get("/provider/api-keys/").get_data(as_text=True)
    assert token not in listing and row.prefix in listing and "Ei koskaan" in listing
    api = client.get("/api/v1/vouchers", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    assert "Ei koskaan" not in client.get("/provider/api-keys/").get_data(as_text=True)


def test_a_name_is_required(client, db, auth, seller):
    _login(db, auth, seller)
    response = post_form(client, "/provider/api-keys/", {"name": " "})
    assert response.status_code == 422
    assert db.execute(sa.select(sa.func.count()).select_from(ApiToken)).scalar() == 0


def test_revoking_a_key(client, db, auth, seller):
    token = factories.api_token(db, seller)
    _login(db, auth, seller)
    row = db.execute(sa.select(ApiToken)).scalar_one()
    response = post_form(client, f"/provider/api-keys/{row.id}/revoke", {},
                         form_page="/provider/api-keys/")
    assert response.status_code == 303
    api = client.get("/api/v1/vouchers", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


def test_another_providers_key_cannot_be_revoked(client, db, auth, seller):
    other = factories.provider(db)
    factories.api_token(db, other)
    _login(db, auth, seller)
    row = db.execute(sa.select(ApiToken)).scalar_one()
    response = post_form(client, f"/provider/api-keys/{row.id}/revoke", {},
                         form_page="/provider/api-keys/")
    assert response.status_code == 404
    db.rollback()
    assert db.get(ApiToken, row.id).revoked_at is None
