"""The provider procedure as a new user meets it, in Finnish and in Swedish: register, fill in,
upload PDFs, submit; the administrator requests changes once, then approves one service and
rejects another; the provider is found in the public register. axe-core on every page."""

import re

import pytest
from fpdf import FPDF
from playwright.sync_api import expect

from tests.browser.conftest import axe_check

COMPANY = "Kotiavun Testaajat Oy"
MARKETING = "Testaajien Kotiapu"
EMAIL = "testaaja@kotiapu.example.fi"
PASSWORD = "pitkä ja vahva salasana"

WORDS = {
    "fi": dict(
        language=None, apply="Hae palveluntuottajaksi", business_id="Y-tunnus",
        company="Yrityksen nimi", your_name="Nimesi", email="Sähköpostiosoite",
        password="Salasana", password_again="Salasana uudelleen", create="Luo tunnus",
        marketing="Markkinointinimi", street="Katuosoite", postal="Postinumero",
        city="Postitoimipaikka", phone="Puhelin", iban="Pankkitili (IBAN)",
        prepayment="Yritys on ennakkoperintärekisterissä", trade="Yritys on kaupparekisterissä",
        soteri="Yritys on rekisteröity Soteriin", soteri_number="Soteri-rekisterinumero",
        insurer="Vakuutusyhtiö", policy="Vakuutusnumero", insured_until="Vakuutus voimassa",
        finnish="suomi", care="Kotihoito", cleaning="Siivousapu", unit="tunti",
        offer="Tarjoamme palvelua {}", price="{}: yksikköhinta euroina (yksikkö: tunti)",
        description="{}: palvelunne kuvaus",
        criteria="{}: täytämme yllä olevat hyväksymisperusteet", save="Tallenna",
        save_submit="Tallenna ja lähetä hakemus", saved="Hakemus tallennettiin.",
        sites="Toimipaikat", site_name="Toimipaikan nimi", municipality="Kunta",
        add_site="Lisää toimipaikka", documents="Asiakirjat", kind="Asiakirja",
        file="PDF-tiedosto", valid_until="Voimassa asti", upload="Lisää",
        uploaded="Asiakirja lisättiin.", submit="Lähetä hakemus",
        submitted="Hakemus lähetettiin.", waiting="odottaa käsittelyä",
        log_in="Kirjaudu sisään", log_out="Kirjaudu ulos", applications="Hakemukset",
        decision="{}: päätös", reason="{}: perustelu", message="Viesti palveluntuottajalle",
        request_changes="Pyydä täydennystä", approve="Hyväksy", reject="Hylkää",
        save_decision="Tallenna päätös", edit="Muokkaa hakemusta",
        register="Hyväksytyt palveluntuottajat", search_text="Nimi tai hakusana",
        service="Palvelu", search="Hae", found="1 palveluntuottaja löytyi",
        approved="hyväksytty", rejected="hylätty", appeal="Oikaisuvaatimusohje",
        back="Takaisin yritykseen ja palveluihin"),
    "sv": dict(
        language="Svenska", apply="Ansök som serviceproducent", business_id="FO-nummer",
        company="Företagets namn", your_name="Ditt namn", email="E-postadress",
        password="Lösenord", password_again="Lösenordet igen", create="Skapa ett konto",
        marketing="Marknadsföringsnamn", street="Gatuadress", postal="Postnummer",
        city="Postanstalt", phone="Telefon", iban="Bankkonto (IBAN)",
        prepayment="Företaget finns i förskottsuppbördsregistret",
        trade="Företaget finns i handelsregistret", soteri="Företaget är registrerat i Soteri",
        soteri_number="Registreringsnummer i Soteri", insurer="Försäkringsbolag",
        policy="Försäkringsnummer", insured_until="Försäkringen gäller till",
        finnish="finska", care="Hemvård", cleaning="Städhjälp", unit="timme",
        offer="Vi erbjuder tjänsten {}", price="{}: enhetspris i euro (enhet: timme)",
        description="{}: beskrivning av er tjänst",
        criteria="{}: vi uppfyller godkännandekriterierna ovan", save="Spara",
        save_submit="Spara och skicka in ansökan", saved="Ansökan sparades.",
        sites="Verksamhetsställen", site_name="Verksamhetsställets namn", municipality="Kommun",
        add_site="Lägg till verksamhetsstället", documents="Dokument", kind="Dokument",
        file="Pdf-fil", valid_until="Giltig till", upload="Ladda upp",
        uploaded="Dokumentet laddades upp.", submit="Skicka in ansökan",
        submitted="Ansökan skickades in.", waiting="väntar på behandling",
        log_in="Logga in", log_out="Logga ut", applications="Ansökningar",
        decision="{}: beslut", reason="{}: motivering",
        message="Meddelande till serviceproducenten", request_changes="Begär ändringar",
        approve="Godkänn", reject="Avslå", save_decision="Spara beslutet",
        edit="Redigera ansökan", register="Godkända serviceproducenter",
        search_text="Namn eller sökord", service="Tjänst", search="Sök",
        found="1 serviceproducent hittades", approved="godkänd", rejected="avslagen",
        appeal="Anvisning om begäran om omprövning",
        back="Tillbaka till företaget och tjänsterna"),
}


@pytest.fixture
def pdf_file(tmp_path):
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "Omavalvontasuunnitelma")
    path = tmp_path / "omavalvonta.pdf"
    path.write_bytes(bytes(pdf.output()))
    return path


def _log_in(page, w, email, password):
    page.get_by_role("banner").get_by_role("link", name=w["log_in"]).click()
    axe_check(page)
    page.get_by_label(w["email"]).fill(email)
    page.get_by_label(w["password"], exact=True).fill(password)
    page.get_by_role("main").get_by_role("button", name=w["log_in"]).click()
    page.wait_for_load_state("load")
    axe_check(page)


def _log_out(page, w):
    page.get_by_role("button", name=w["log_out"]).click()
    axe_check(page)


def _register_and_fill_in(page, w, pdf_file):
    page.get_by_role("link", name=w["apply"]).first.click()
    axe_check(page)
    page.get_by_label(w["business_id"]).fill("0737546-2")
    page.get_by_label(w["company"]).fill(COMPANY)
    page.get_by_label(w["your_name"]).fill("Tea Testaaja")
    page.get_by_label(w["email"]).fill(EMAIL)
    page.get_by_label(w["password"], exact=True).fill(PASSWORD)
    page.get_by_label(w["password_again"]).fill(PASSWORD)
    page.get_by_role("button", name=w["create"]).click()
    axe_check(page)  # the application form

    page.get_by_label(w["marketing"]).fill(MARKETING)
    page.get_by_label(w["street"]).fill("Kauppatie 5")
    page.get_by_label(w["postal"]).fill("84100")
    page.get_by_label(w["city"]).fill("Ylivieska")
    page.get_by_label(w["phone"]).fill("+358 40 765 4321")
    page.get_by_label(w["iban"]).fill("FI21 1234 5600 0007 85")
    page.get_by_label("BIC").fill("NDEAFIHH")
    for box in ("prepayment", "trade", "soteri"):
        page.get_by_label(w[box]).check()
    page.get_by_label(w["soteri_number"]).fill("SOTERI-123")
    page.get_by_label(w["insurer"]).fill("LähiTapiola")
    page.get_by_label(w["policy"]).fill("VA-778899")
    page.get_by_label(w["insured_until"]).fill("2027-06-30")
    page.get_by_label("Ylivieska", exact=True).check()
    page.get_by_label(w["finnish"], exact=True).check()
    for service, price in ((w["care"], "42"), (w["cleaning"], "33,50")):
        page.get_by_label(w["offer"].format(service)).check()
        page.get_by_label(w["price"].format(service)).fill(price)
        page.get_by_label(w["description"].format(service)).fill(
            "Arkisin 7–21 koko Ylivieskan alueella.")
        page.get_by_label(w["criteria"].format(service)).check()
    page.get_by_role("button", name=w["save"], exact=True).click()
    axe_check(page)  # the overview
    expect(page.get_by_text(w["saved"])).to_be_visible()

    page.get_by_role("main").get_by_role("link", name=w["sites"], exact=True).click()
    axe_check(page)
    page.get_by_label(w["site_name"]).fill("Päätoimisto")
    page.get_by_label(w["street"]).fill("Kauppatie 5")
    page.get_by_label(w["postal"]).fill("84100")
    page.get_by_label(w["city"]).fill("Ylivieska")
    page.get_by_label(w["municipality"]).select_option(label="Ylivieska")
    page.get_by_role("button", name=w["add_site"]).click()
    axe_check(page)
    expect(page.get_by_role("cell", name="Kauppatie 5, 84100 Ylivieska")).to_be_visible()

    page.goto("/provider/application/documents")
    axe_check(page)
    for kind, until in (("self_monitoring_plan", ""), ("insurance_certificate", "2027-06-30")):
        page.get_by_label(w["kind"], exact=True).select_option(kind)
        page.get_by_label(w["file"]).set_input_files(pdf_file)
        if until:
            page.get_by_role("textbox", name=w["valid_until"]).fill(until)
        page.get_by_role("button", name=w["upload"], exact=True).click()
        axe_check(page)
        expect(page.get_by_text(w["uploaded"])).to_be_visible()
    expect(page.get_by_role("link", name="omavalvonta.pdf")).to_have_count(2)


def _review(page, w, verdicts, message=""):
    page.get_by_role("navigation", name=re.compile(".")).get_by_role(
        "link", name=w["applications"]).click()
    axe_check(page)
    page.get_by_role("link", name=MARKETING).first.click()
    axe_check(page)
    expect(page.get_by_role("link", name="omavalvonta.pdf")).to_have_count(2)
    for service, (verdict, reason) in verdicts.items():
        group = page.get_by_role("group", name=w["decision"].format(service))
        group.get_by_text(w[verdict], exact=True).click()  # the label, as people click it
        expect(group.get_by_label(w[verdict])).to_be_checked()
        if reason:
            page.get_by_label(w["reason"].format(service)).fill(reason)
    if message:
        page.get_by_label(w["message"]).fill(message)
    page.get_by_role("button", name=w["save_decision"]).click()
    axe_check(page)


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_a_provider_applies_is_reviewed_and_is_found_in_the_register(page, demo, pdf_file,
                                                                       language):
    w = WORDS[language]
    page.goto("/")
    axe_check(page)
    if w["language"]:
        page.get_by_role("link", name=w["language"]).click()
        axe_check(page)
    _register_and_fill_in(page, w, pdf_file)

    page.get_by_role("link", name=w["back"]).click()
    axe_check(page)
    page.get_by_role("button", name=w["submit"]).click()
    axe_check(page)
    expect(page.get_by_text(w["submitted"])).to_be_visible()
    expect(page.get_by_text(w["waiting"]).first).to_be_visible()
    _log_out(page, w)

    _log_in(page, w, "admin@example.fi", "demo-password")
    _review(page, w, {w["care"]: ("request_changes", "Tarkentakaa henkilöstön koulutus."),
                      w["cleaning"]: ("request_changes", "Kuuluuko ikkunanpesu hintaan?")},
            message="Täydentäkää hakemusta.")
    _log_out(page, w)

    _log_in(page, w, EMAIL, PASSWORD)
    page.goto("/provider/application")
    axe_check(page)
    expect(page.get_by_role("region").locator(
        "p", has_text="Täydentäkää hakemusta.")).to_be_visible()
    expect(page.get_by_text("Kuuluuko ikkunanpesu hintaan?").first).to_be_visible()
    page.get_by_role("link", name=w["edit"]).click()
    axe_check(page)
    page.get_by_label(w["description"].format(w["cleaning"])).fill(
        "Ylläpitosiivous arkisin, ikkunanpesu sisältyy hintaan.")
    page.get_by_role("button", name=w["save_submit"]).click()
    axe_check(page)
    expect(page.get_by_text(w["submitted"])).to_be_visible()
    _log_out(page, w)

    _log_in(page, w, "admin@example.fi", "demo-password")
    _review(page, w, {w["care"]: ("approve", ""),
                      w["cleaning"]: ("reject", "Hinta ei vastaa palvelun sisältöä.")})
    expect(page.get_by_role("main").get_by_text(w["approved"]).first).to_be_visible()
    _log_out(page, w)

    _log_in(page, w, EMAIL, PASSWORD)
    page.goto("/provider/application")
    axe_check(page)
    expect(page.get_by_text("Hinta ei vastaa palvelun sisältöä.").first).to_be_visible()
    expect(page.get_by_role("heading", name=w["appeal"])).to_be_visible()
    _log_out(page, w)

    page.get_by_role("navigation", name=re.compile(".")).get_by_role(
        "link", name=w["register"]).click()
    axe_check(page)
    page.get_by_label(w["service"], exact=True).select_option(label=w["care"])
    page.get_by_label(w["search_text"]).fill("testaajien")
    page.get_by_role("button", name=w["search"], exact=True).click()
    axe_check(page)
    expect(page.get_by_role("heading", name=w["found"])).to_be_visible()
    page.get_by_role("link", name=MARKETING).click()
    axe_check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(MARKETING)
    expect(page.get_by_text("42,00\u00a0€")).to_be_visible()
    expect(page.get_by_role("heading", name=w["cleaning"])).to_have_count(0)


def test_the_administrators_other_provider_pages_pass_the_accessibility_check(page, demo):
    page.goto("/login")
    axe_check(page)
    page.get_by_label("Sähköpostiosoite").fill("admin@example.fi")
    page.get_by_label("Salasana", exact=True).fill("demo-password")
    page.get_by_role("main").get_by_role("button", name="Kirjaudu sisään").click()
    axe_check(page)
    page.get_by_role("navigation", name="Päävalikko").get_by_role(
        "link", name="Palveluvalikoima").click()
    axe_check(page)
    page.get_by_role("link", name="Lisää palvelu").click()
    axe_check(page)
    page.get_by_role("button", name="Tallenna").click()  # nothing filled in: errors
    axe_check(page)
    expect(page.get_by_text("Anna nimi suomeksi.").first).to_be_visible()
    page.get_by_role("link", name="Takaisin palveluvalikoimaan").click()
    axe_check(page)
    page.get_by_role("link", name="Palvelun Kotihoito arvot ja hintakatot").click()
    axe_check(page)
    page.get_by_role("link", name="Takaisin palveluvalikoimaan").click()
    axe_check(page)
    page.get_by_role("link", name="Muokkaa: Kotihoito").click()
    axe_check(page)
    page.goto("/admin/providers")
    axe_check(page)
    expect(page.get_by_role("link", name="Lumohoiva")).to_be_visible()  # expired insurance
    page.get_by_role("link", name="Lumohoiva").click()
    axe_check(page)
    expect(page.get_by_role("heading", name="Päätä keskeytys")).to_be_visible()
    page.get_by_role("link", name="Takaisin hakemuksiin").click()
    axe_check(page)
    page.get_by_role("link", name="Kaikki palveluntuottajat").click()
    axe_check(page)
    page.get_by_label("Tila").select_option("revoked")
    page.get_by_role("button", name="Hae").click()
    axe_check(page)
    expect(page.get_by_role("link", name="Kotihoiva Tuulia Oy")).to_be_visible()
    page.goto("/admin/outbox/")
    axe_check(page)
