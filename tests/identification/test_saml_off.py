"""Without the SAML settings strong identification is off: no button, and its pages say so
(404) rather than fail."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_config(app_config):
    return {key: value for key, value in app_config.items() if not key.startswith("SAML_")}


def test_the_login_page_has_no_strong_identification_button(client):
    page = client.get("/login").get_data(as_text=True)
    assert "/auth/saml/login" not in page


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/auth/saml/login"), ("get", "/auth/saml/metadata"), ("post", "/auth/saml/acs"),
])
def test_its_pages_answer_404_with_a_page(client, method, path):
    answer = getattr(client, method)(path)
    assert answer.status_code == 404
    assert "Vahva sähköinen tunnistus ei ole käytössä" in answer.get_data(as_text=True)


def test_with_it_on_the_login_page_offers_it(app_config, saml_keys, tmp_path):
    from tests.saml_idp import in_process_idp
    from voucher import create_app

    application = create_app({**app_config, **in_process_idp(saml_keys, tmp_path)[1]})
    page = application.test_client().get("/login").get_data(as_text=True)
    application.extensions["voucher.engine"].dispose()
    assert "/auth/saml/login" in page and "Kirjaudu vahvalla sähköisellä tunnistuksella" in page
