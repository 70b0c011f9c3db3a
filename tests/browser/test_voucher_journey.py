"""The voucher journey as new users would walk it, in Finnish and in English: a case manager
registers a client and makes an income-related decision that needs a second approval, a second
case manager approves it, the client logs in from the invitation, compares providers by
self-share and chooses one, and the provider accepts. Every page gets the axe-core check."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.conftest import link_in
from voucher.mail.models import OutboxMessage

WORDS = {
    "fi": {
        "language": "Suomi", "email": "Sähköpostiosoite", "password": "Salasana",
        "log_in": "Kirjaudu sisään", "log_out": "Kirjaudu ulos", "clients": "Asiakkaat",
        "register": "Rekisteröi asiakas", "register_button": "Rekisteröi asiakas",
        "identity_code": "Henkilötunnus",
        "first_name": "Etunimi", "last_name": "Sukunimi", "home": "Kotikunta",
        "client_language": "Suomi", "household": "Kotitalouden koko (henkeä)",
        "income": "Kotitalouden bruttotulot kuukaudessa (€)",
        "invite": "Lähetä asiakkaalle kirjautumiskutsu sähköpostilla",
        "registered": "Asiakas on rekisteröity.", "decide": "Tee palvelusetelipäätös",
        "service": "Palvelu", "home_care": "Kotihoito", "need": "Palvelutarpeen arviointi",
        "monthly": "Yksikkömäärä joka kalenterikuukausi (käyttämättömät yksiköt eivät siirry "
                   "seuraavaan kuukauteen)",
        "units": "Yksiköt", "valid_from": "Voimassa alkaen", "valid_until": "Voimassa asti",
        "calculate": "Laske", "calculation": "Laskelma", "make": "Tee päätös",
        "pending": "Päätös odottaa toisen palveluohjaajan hyväksyntää.",
        "vouchers": "Palvelusetelit", "approve": "Hyväksy päätös",
        "approved": "Päätös on hyväksytty ja palveluseteli myönnetty.",
        "new_password": "Uusi salasana", "again": "Uusi salasana uudelleen",
        "save_password": "Tallenna salasana ja kirjaudu", "my_vouchers": "Omat setelini",
        "choose": "Valitse palveluntuottaja", "choose_button": "Valitse",
        "requested": "Pyyntösi on lähetetty palveluntuottajalle.",
        "provider_menu": "Asiakkaiden palvelusetelit", "accept": "Hyväksy",
        "accepted": "Olette ottaneet asiakkaan.", "waiting": "odottaa hyväksyntää",
    },
    "en": {
        "language": "English", "email": "E-mail address", "password": "Password",
        "log_in": "Log in", "log_out": "Log out", "clients": "Clients",
        "register": "Register a client", "register_button": "Register the client",
        "identity_code": "Personal identity code",
        "first_name": "First name", "last_name": "Last name", "home": "Home municipality",
        "client_language": "English", "household": "Household size (persons)",
        "income": "Gross monthly income of the household (€)",
        "invite": "Send the client a login invitation by e-mail",
        "registered": "The client has been registered.", "decide": "Make a voucher decision",
        "service": "Service", "home_care": "Home care", "need": "Need assessment",
        "monthly": "A number of units each calendar month (unused units do not carry over)",
        "units": "Units", "valid_from": "Valid from", "valid_until": "Valid until",
        "calculate": "Calculate", "calculation": "Calculation", "make": "Make the decision",
        "pending": "The decision is waiting for a second case manager's approval.",
        "vouchers": "Vouchers", "approve": "Approve the decision",
        "approved": "The decision has been approved and the voucher issued.",
        "new_password": "New password", "again": "New password again",
        "save_password": "Save the password and log in", "my_vouchers": "My vouchers",
        "choose": "Choose a provider", "choose_button": "Choose",
        "requested": "Your request has been sent to the provider.",
        "provider_menu": "Clients' vouchers", "accept": "Accept",
        "accepted": "You have accepted the client.", "waiting": "waiting for approval",
    },
}
CLIENT = {"fi": ("290147-9797", "liisa.laaksonen@example.fi"),
          "en": ("140233-9881", "liisa.laaksonen@example.fi")}


def log_in(page, words, email, password="demo-password"):  # noqa: S107
    page.get_by_role("banner").get_by_role("link", name=words["log_in"]).click()
    axe_check(page)
    page.get_by_label(words["email"]).fill(email)
    page.get_by_label(words["password"], exact=True).fill(password)
    page.get_by_role("main").get_by_role("button", name=words["log_in"]).click()
    expect(page.get_by_role("button", name=words["log_out"])).to_be_visible()
    axe_check(page)


def log_out(page, words):
    page.get_by_role("button", name=words["log_out"]).click()
    expect(page.get_by_role("banner").get_by_role("link", name=words["log_in"])).to_be_visible()
    axe_check(page)


def nav(page, name):
    page.get_by_role("navigation", name=re.compile("Main|Päävalikko|Huvudmeny")) \
        .get_by_role("link", name=name, exact=True).click()
    axe_check(page)


@pytest.mark.parametrize("language", ["fi", "en"])
def test_from_registration_to_the_providers_acceptance(page, demo, db, language):
    words = WORDS[language]
    code, email = CLIENT[language]
    page.goto("/")
    axe_check(page)
    if language != "fi":
        page.get_by_role("link", name=words["language"]).click()
        axe_check(page)

    # The case manager registers the client and sends a login invitation.
    log_in(page, words, "casemanager@example.fi")
    nav(page, words["clients"])
    page.get_by_role("link", name=words["register"]).click()
    axe_check(page)
    page.get_by_label(words["identity_code"]).fill(code)
    page.get_by_label(words["first_name"]).fill("Liisa")
    page.get_by_label(words["last_name"]).fill("Laaksonen")
    page.get_by_label(words["home"]).select_option(label="Ylivieska")
    page.get_by_role("main").get_by_text(words["client_language"], exact=True).click()
    page.get_by_label(words["email"]).fill(email)
    page.get_by_label(words["household"]).fill("1")
    page.get_by_label(words["income"]).fill("1650")
    page.get_by_label(words["invite"]).check()
    page.get_by_role("button", name=words["register_button"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["registered"])
    axe_check(page)

    # An income-related decision: 20 h a month for a year, above the four-eyes limit.
    page.get_by_role("link", name=words["decide"]).click()
    axe_check(page)
    page.get_by_label(words["service"], exact=True).select_option(label=words["home_care"])
    page.get_by_label(words["need"]).fill("Needs help with washing, dressing and medicines.")
    page.get_by_text(words["monthly"]).click()  # HDS radios: the label takes the click
    page.get_by_label(words["units"], exact=True).fill("20")
    page.get_by_label(words["valid_from"]).fill("2026-12-01")
    page.get_by_label(words["valid_until"]).fill("2027-11-30")
    page.get_by_role("button", name=words["calculate"]).click()
    expect(page.get_by_role("heading", name=words["calculation"])).to_be_visible()
    expect(page.locator(".calculation__result")).to_contain_text("22")
    axe_check(page)
    page.get_by_role("button", name=words["make"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["pending"])
    axe_check(page)
    log_out(page, words)

    # The second case manager approves.
    log_in(page, words, "casemanager2@example.fi")
    nav(page, words["vouchers"])
    waiting = page.get_by_role("table").first
    waiting.get_by_role("link", name="Liisa Laaksonen").click()
    axe_check(page)
    page.get_by_role("button", name=words["approve"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["approved"])
    axe_check(page)
    log_out(page, words)

    # The client sets a password from the invitation and chooses by self-share.
    db.rollback()
    invitation = db.execute(sa.select(OutboxMessage).where(
        OutboxMessage.to_address == email, OutboxMessage.template == "accounts/invitation")
    ).scalar_one()
    page.goto(link_in(invitation.body_text))
    axe_check(page)
    page.get_by_label(words["new_password"], exact=True).fill("lumiukko kävi kylässä")
    page.get_by_label(words["again"]).fill("lumiukko kävi kylässä")
    page.get_by_role("button", name=words["save_password"]).click()
    expect(page.get_by_role("button", name=words["log_out"])).to_be_visible()
    axe_check(page)
    nav(page, words["my_vouchers"])
    page.get_by_role("link", name=words["choose"]).click()
    axe_check(page)
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Aurinkohoiva")  # 16,75 € a unit before 19,75 €
    expect(rows.nth(0)).to_contain_text("16")
    expect(rows.nth(1)).to_contain_text("Kotihoito Pohjola Oy")
    rows.nth(0).get_by_role("button", name=f"{words['choose_button']} Aurinkohoiva").click()
    expect(page.get_by_role("status")).to_contain_text(words["requested"])
    axe_check(page)
    log_out(page, words)

    # The provider accepts.
    log_in(page, words, "provider@example.fi")
    nav(page, words["provider_menu"])
    page.get_by_role("row").filter(has_text="Liisa L.") \
        .get_by_role("button", name=words["accept"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["accepted"])
    expect(page.get_by_role("heading", level=1)).to_contain_text("Liisa Laaksonen")
    axe_check(page)
