"""Strong identification in the browser, through the local test IdP (scripts/test_idp.py on
loopback): a demo client chooses who they are, sees their vouchers and logs out with single
logout; a person who is no client gets the page that says whom to contact; the same answer
sent again is refused. Every page, the IdP's included, gets ``check_page``."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_page
from tests.saml_idp import saml_keys, saml_settings, test_idp_server  # noqa: F401
from voucher.identification.saml import metadata_xml


@pytest.fixture
def app_config(app_config, test_idp_server, saml_keys):  # noqa: F811
    return {**app_config, **saml_settings(saml_keys, test_idp_server["metadata_file"])}


@pytest.fixture
def saml_live(app, live_url, test_idp_server):  # noqa: F811
    """The app served on loopback, its SP metadata (with that address) given to the IdP."""
    app.config["BASE_URL"] = live_url
    app.extensions.pop("voucher.saml", None)
    test_idp_server["sp_metadata"].write_text(metadata_xml(app), encoding="utf-8")
    return live_url


def identify(page, name: str) -> str:
    """From the login page through the test IdP's two pages, as NAME; the IdP's "continue"
    page (with its answer) is returned."""
    page.goto("/login")
    check_page(page)
    page.get_by_role("link", name="Kirjaudu vahvalla sähköisellä tunnistuksella").click()
    expect(page.get_by_role("heading", name="Valitse, kuka olet")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name=name).click()
    expect(page.get_by_role("heading", name="Jatka palveluun")).to_be_visible()
    check_page(page)
    answer_page = page.content()
    page.get_by_role("button", name="Jatka palveluun").click()
    page.wait_for_load_state("load")
    return answer_page


def test_a_demo_client_logs_in_with_strong_identification_and_out_with_single_logout(
        demo, saml_live, page):
    identify(page, "Aino Virtanen")
    expect(page.get_by_text("Olet kirjautunut vahvalla sähköisellä tunnistuksella.")
           ).to_be_visible()
    check_page(page)
    page.get_by_role("navigation").get_by_role("link", name="Omat setelini").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Kotihoito")
    check_page(page)
    page.get_by_role("button", name="Kirjaudu ulos").click()
    expect(page.get_by_text("Olet kirjautunut ulos, myös tunnistuspalvelusta.")).to_be_visible()
    check_page(page)
    page.goto("/vouchers/mine")
    expect(page.get_by_label("Sähköpostiosoite")).to_be_visible()  # the login page again
    check_page(page)


def test_a_person_who_is_no_client_is_told_whom_to_contact_and_a_replay_is_refused(
        demo, saml_live, page):
    answer_page = identify(page, "Ulla Ulkopuolinen")
    expect(page.get_by_role("heading", name="Et ole palvelusetelipalvelun asiakas")
           ).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("010150-****")
    expect(page.get_by_role("main")).not_to_contain_text("010150-903F")
    check_page(page)
    page.goto("about:blank")  # the IdP's "continue" page again (no CSP), with the same answer
    page.set_content(answer_page)
    expect(page.get_by_role("heading", name="Jatka palveluun")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Jatka palveluun").click()
    expect(page.get_by_role("heading", name="Tunnistus ei onnistunut")).to_be_visible()
    check_page(page)
    expect(page.get_by_role("button", name="Kirjaudu ulos")).to_have_count(0)


def test_a_case_manager_records_a_mandate_and_the_representative_acts_for_the_client(
        demo, saml_live, page, db):
    import sqlalchemy as sa

    from tests.browser.conftest import login
    from voucher.clients.models import Client

    matti = db.scalar(sa.select(Client).where(Client.first_name == "Matti"))
    login(page, "casemanager@example.fi")
    check_page(page)
    page.goto(f"/clients/{matti.id}")
    check_page(page)
    page.get_by_role("link", name="Valtuutukset").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Matti Niemi")
    check_page(page)
    page.get_by_label("Edustajan nimi").fill("Raili Niemi")
    page.get_by_label("Edustajan henkilötunnus").fill("120375-906R")
    page.get_by_text("Omainen tai muu henkilö asiakkaan suostumuksella").click()
    expect(page.get_by_label("Omainen tai muu henkilö asiakkaan suostumuksella")).to_be_checked()
    page.get_by_text("saa valita palveluntuottajan").click()
    expect(page.get_by_label("saa valita palveluntuottajan")).to_be_checked()
    page.get_by_label("Voimassa asti").fill("2027-12-31")
    page.get_by_role("button", name="Kirjaa valtuutus").click()
    expect(page.get_by_text("Valtuutus on kirjattu.")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("120375-****")
    check_page(page)
    page.get_by_role("button", name="Kirjaudu ulos").click()
    check_page(page)

    identify(page, "Raili Niemi")
    expect(page.get_by_role("heading", name="Kenen puolesta asioit?")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Asioi henkilön Matti Niemi puolesta").click()
    expect(page.get_by_text("Asioit henkilön Matti Niemi puolesta hänen edustajanaan")
           ).to_be_visible()
    check_page(page)
    page.get_by_role("navigation").get_by_role("link", name="Omat setelini").first.click()
    expect(page.get_by_text("Asioit henkilön Matti Niemi puolesta hänen edustajanaan")
           ).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("link", name="Kuka saa asioida puolestani")
           ).to_have_count(0)
    check_page(page)
    page.get_by_role("button", name="Kirjaudu ulos").click()
    expect(page.get_by_text("Olet kirjautunut ulos, myös tunnistuspalvelusta.")).to_be_visible()
    check_page(page)
