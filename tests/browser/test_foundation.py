"""Each demo user logs in, in each language, and sees their role's home page."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check

HOME_HEADINGS = {
    "admin@example.fi": {"fi": "Ylläpito", "sv": "Administration", "en": "Administration"},
    "casemanager@example.fi": {"fi": "Palveluohjaaja", "sv": "Servicehandledare",
                               "en": "Case manager"},
    "provider@example.fi": {"fi": "Palveluntuottaja", "sv": "Serviceproducent",
                            "en": "Provider"},
    "client@example.fi": {"fi": "Omat palvelusetelini", "sv": "Mina servicesedlar",
                          "en": "My service vouchers"},
}
LANGUAGE_LINKS = {"fi": "Suomi", "sv": "Svenska", "en": "English"}
FORM_WORDS = {
    "fi": ("Sähköpostiosoite", "Salasana", "Kirjaudu sisään", "Kirjaudu ulos"),
    "sv": ("E-postadress", "Lösenord", "Logga in", "Logga ut"),
    "en": ("E-mail address", "Password", "Log in", "Log out"),
}


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_every_demo_user_logs_in_and_sees_their_home_page(page, demo, language):
    page.goto("/")
    axe_check(page)
    if language != "fi":
        page.get_by_role("link", name=LANGUAGE_LINKS[language]).click()
        axe_check(page)
    email_label, password_label, login_button, logout_button = FORM_WORDS[language]
    expect(page.locator("html")).to_have_attribute("lang", language)

    for email, headings in HOME_HEADINGS.items():
        page.get_by_role("banner").get_by_role("link", name=login_button).click()
        axe_check(page)
        page.get_by_label(email_label).fill(email)
        page.get_by_label(password_label, exact=True).fill("demo-password")
        page.get_by_role("main").get_by_role("button", name=login_button).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(headings[language])
        axe_check(page)
        page.get_by_role("button", name=logout_button).click()
        expect(page.get_by_role("banner").get_by_role("link", name=login_button)).to_be_visible()
        axe_check(page)


def test_wrong_password_is_explained_next_to_the_form(page, demo):
    page.goto("/login")
    axe_check(page)
    page.get_by_label("Sähköpostiosoite").fill("admin@example.fi")
    page.get_by_label("Salasana", exact=True).fill("not the password")
    page.get_by_role("main").get_by_role("button", name="Kirjaudu sisään").click()
    expect(page.get_by_text("Sähköpostiosoite tai salasana on väärä.")).to_be_visible()
    expect(page.get_by_label("Sähköpostiosoite")).to_have_value("admin@example.fi")
    axe_check(page)


def test_language_choice_is_remembered_across_pages(page, demo):
    page.goto("/")
    axe_check(page)
    page.get_by_role("link", name="Svenska").click()
    axe_check(page)
    page.goto("/login")
    axe_check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    expect(page).to_have_url(re.compile(r"/login$"))
