"""Downloading a client's data export: the client from their own page, the case manager from
the client's page. Every page gets the axe-core check."""

import json
import re

from tests.browser.conftest import axe_check, login


def test_the_client_downloads_their_data(page, demo):
    login(page, "client@example.fi")
    axe_check(page)
    page.goto("/vouchers/mine")
    axe_check(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Tietosi JSON-tiedostona (koneluettava)").click()
    with open(download.value.path(), encoding="utf-8") as exported:
        data = json.load(exported)
    assert (data["client"]["first_name"], data["client"]["identity_code"]) == (
        "Aino", "150344-912V")
    with page.expect_download() as download:
        page.get_by_role("link", name="Tietosi PDF-asiakirjana").click()
    with open(download.value.path(), "rb") as exported:
        assert exported.read(5) == b"%PDF-"


def test_the_case_manager_downloads_a_clients_data(page, demo):
    login(page, "casemanager@example.fi")
    axe_check(page)
    page.goto("/clients/?q=Aino+Virtanen")
    axe_check(page)
    page.get_by_role("link", name=re.compile("Virtanen")).first.click()
    axe_check(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF-asiakirja").click()
    assert download.value.suggested_filename.endswith("-data.pdf")
