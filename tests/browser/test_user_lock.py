"""An administrator locks a user: the user's open session ends at once, in another browser."""

from playwright.sync_api import expect

from tests.browser.conftest import axe_check, check_page, login


def test_administrator_locks_a_provider_user_and_its_session_ends(page, browser, live_url, demo):
    other = browser.new_context(base_url=live_url, locale="fi-FI")
    try:
        provider_page = other.new_page()
        provider_page.goto("/login")
        provider_page.get_by_label("Sähköpostiosoite").fill("provider@example.fi")
        provider_page.get_by_label("Salasana", exact=True).fill("demo-password")
        provider_page.get_by_role("button", name="Kirjaudu sisään").click()
        expect(provider_page.get_by_role("heading", level=1)).to_have_text("Palveluntuottaja")

        login(page, "admin@example.fi")
        axe_check(page)
        page.get_by_role("link", name="Käyttäjät").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Käyttäjät")
        check_page(page)
        page.get_by_label("Sähköpostiosoite").fill("provider@example.fi")
        page.get_by_role("button", name="Hae").click()
        check_page(page)
        page.get_by_role("button", name="Lukitse provider@example.fi").click()
        expect(page.get_by_text("provider@example.fi on lukittu")).to_be_visible()
        expect(page.get_by_role("cell", name="Lukittu", exact=True)).to_be_visible()
        check_page(page)

        provider_page.goto("/account/password")
        expect(provider_page.get_by_role("heading", level=1)).to_have_text("Kirjaudu sisään")
    finally:
        other.close()
