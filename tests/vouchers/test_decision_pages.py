"""The case manager's decision pages: refusals next to the form with nothing stored, four eyes
over HTTP, drafts, the policy page."""

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import post_form
from voucher import clock
from voucher.accounts.models import Role
from voucher.budgets.models import Budget
from voucher.vouchers.models import Voucher, VoucherPolicy, VoucherStatus
from voucher.vouchers.policy import current_policy

GOOD = {"need_assessment": "Tarvitsee apua kodin siivoukseen.", "recurrence": "total",
        "units": "10", "valid_from": "2026-12-01", "valid_until": "2026-12-31",
        "action": "issue"}


def _decide(client, world, **overrides):
    return post_form(client, f"/vouchers/new/{world.client.id}",
                     {"service_type": world.fixed.id, **GOOD, **overrides})


def _vouchers(db):
    db.rollback()
    return db.execute(sa.select(Voucher).order_by(Voucher.id)).scalars().all()


@pytest.mark.parametrize("overrides, message", [
    ({"valid_from": "2026-12-31", "valid_until": "2026-12-01"},
     "Voimassaolo ei voi päättyä ennen kuin se alkaa."),
    ({"units": "0"}, "Yksiköiden määrän on oltava suurempi kuin nolla."),
    ({"units": "-3"}, "Yksiköiden määrän on oltava suurempi kuin nolla."),
    ({"units": "kymmenen"}, "Anna luku, esim. 2 tai 1,5."),
    ({"valid_until": "31.13.2026"}, "Anna päivämäärä, esim. 24.11.2026."),
    ({"service_type": "0"}, "Valitse palvelu."),
])
def test_bad_decisions_are_explained_next_to_the_field_and_nothing_is_stored(
        client, auth, db, world, overrides, message):
    auth.login(world.case_manager.email, factories.PASSWORD)
    response = _decide(client, world, **overrides)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert "Tarvitsee apua kodin siivoukseen." in html  # nothing typed is lost
    assert _vouchers(db) == []


def test_an_overdraw_is_refused_with_the_figures_and_nothing_is_committed(client, auth, db,
                                                                          world):
    world.budgets[("CLEANING", 2026)].amount_cents = 20_000
    db.commit()
    auth.login(world.case_manager.email, factories.PASSWORD)
    response = _decide(client, world)
    assert response.status_code == 422
    html = response.get_data(as_text=True).replace("\xa0", " ")
    assert "250,00 €" in html and "200,00 €" in html and "2026" in html
    assert _vouchers(db) == []
    assert db.get(Budget, world.budgets[("CLEANING", 2026)].id).committed_cents == 0


def test_the_calculation_is_previewed_without_storing_anything(client, auth, db, world):
    auth.login(world.case_manager.email, factories.PASSWORD)
    response = _decide(client, world, service_type=world.income.id, household_size="1",
                       income="1650", action="preview")
    assert response.status_code == 200
    html = response.get_data(as_text=True).replace("\xa0", " ")
    assert "Tulorajan ylittävät tulot" in html and "650,00 €" in html and "22,25 €" in html
    assert "222,50 €" in html  # 10 h × 22,25 €
    assert _vouchers(db) == []


def test_four_eyes_over_http(client, auth, db, world, outbox):
    current_policy(db).four_eyes_threshold_cents = 10_000
    db.commit()
    auth.login(world.case_manager.email, factories.PASSWORD)
    response = _decide(client, world)
    assert response.status_code == 303
    voucher = _vouchers(db)[0]
    assert voucher.status == VoucherStatus.PENDING_APPROVAL
    detail = client.get(f"/vouchers/{voucher.id}").get_data(as_text=True)
    assert "Hyväksy päätös" not in detail
    refused = post_form(client, f"/vouchers/{voucher.id}/approve", {},
                        form_page=f"/vouchers/{voucher.id}")
    assert refused.status_code == 403
    assert "Et voi hyväksyä omaa päätöstäsi" in refused.get_data(as_text=True)
    assert _vouchers(db)[0].status == VoucherStatus.PENDING_APPROVAL
    auth.logout()

    auth.login(world.second_case_manager.email, factories.PASSWORD)
    waiting = client.get("/vouchers/").get_data(as_text=True)
    assert f"/vouchers/{voucher.id}" in waiting.split("Kaikki palvelusetelit")[0]
    approved = post_form(client, f"/vouchers/{voucher.id}/approve", {},
                         form_page=f"/vouchers/{voucher.id}")
    assert approved.status_code == 303
    voucher = _vouchers(db)[0]
    assert (voucher.status, voucher.approved_by_user_id) == (VoucherStatus.ISSUED,
                                                            world.second_case_manager.id)
    assert [m.template for m in outbox(to=world.client.email)] == ["vouchers/issued"]


def test_a_draft_is_saved_and_finished_later(client, auth, db, world):
    auth.login(world.case_manager.email, factories.PASSWORD)
    response = _decide(client, world, action="draft")
    assert response.status_code == 303
    draft = _vouchers(db)[0]
    assert draft.status == VoucherStatus.DRAFT
    page = client.get(f"/vouchers/{draft.id}/edit").get_data(as_text=True)
    assert "Tarvitsee apua kodin siivoukseen." in page
    response = post_form(client, f"/vouchers/{draft.id}/edit",
                         {"service_type": world.fixed.id, **GOOD, "units": "6"})
    assert response.status_code == 303
    issued = _vouchers(db)
    assert len(issued) == 1 and issued[0].status == VoucherStatus.ISSUED
    assert issued[0].units_granted == 600


def test_the_letter_is_in_the_clients_language_with_codes_and_review_instructions(
        client, auth, db, world):
    world.client.language = "sv"
    db.commit()
    auth.login(world.case_manager.email, factories.PASSWORD)
    voucher_url = _decide(client, world).headers["Location"]
    voucher = _vouchers(db)[0]
    html = client.get(f"{voucher_url}/letter").get_data(as_text=True)
    letter = html.split('<article class="letter" lang="sv">')[1]
    for text in ("Beslut om servicesedel", voucher.code, voucher.confirmation_code,
                 "begära omprövning", "avgiftstaket för klientavgifter",
                 "Servicesedelns kod", "<svg role=\"img\""):
        assert text in letter, text
    assert "Palvelusetelipäätös" not in letter
    pdf = client.get(f"{voucher_url}/letter.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    db.rollback()
    views = db.execute(sa.text("SELECT count(*) FROM audit_events WHERE action = "
                               "'client.identity_code_viewed'")).scalar()
    assert views == 2  # every letter shows the whole code


def test_the_letter_gives_the_decision_number_delegation_provisions_and_deadlines(
        app, client, auth, db, world):
    world.client.language = "en"
    db.commit()
    auth.login(world.case_manager.email, factories.PASSWORD)
    voucher_url = _decide(client, world).headers["Location"]
    voucher = _vouchers(db)[0]
    assert re.fullmatch(r"PS-\d{4}-\d{6}", voucher.decision_number)
    assert voucher.decision_number in client.get(voucher_url).get_data(as_text=True)
    letter = client.get(f"{voucher_url}/letter").get_data(as_text=True).split(
        '<article class="letter" lang="en">')[1]
    sent = clock.local(voucher.issued_at).date()
    electronic = sent + dt.timedelta(days=3)
    config = app.config
    for text in (voucher.decision_number, "Confidential: Act on the Openness of Government "
                 "Activities (621/1999), section 24(1)(25)",
                 f"under {config['DECISION_DELEGATION']}", config["VOUCHER_RULES"],
                 "(569/2009), sections 4–8", config["REGISTRY_ADDRESS"],
                 config["REGISTRY_HOURS"],
                 # The client has an e-mail address and a login: delivered electronically.
                 f"sent electronically on {sent:%-d %b %Y}. It is deemed received on "
                 f"{electronic:%-d %b %Y}, and the time for a request for review ends on "
                 f"{electronic + dt.timedelta(days=30):%-d %b %Y}",
                 "with the approved provider of the lowest price in your municipality"):
        assert text in letter, text
    pdf = client.get(f"{voucher_url}/letter.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_the_issuing_policy_is_set_by_the_administrator(client, auth, db, world):
    factories.user(db, role=Role.ADMIN, email="anna@example.fi")
    db.commit()
    auth.login("anna@example.fi", factories.PASSWORD)
    assert post_form(client, "/vouchers/policy", {"threshold": "-1"}).status_code == 422
    assert post_form(client, "/vouchers/policy", {"threshold": "1 500,00"}).status_code == 303
    db.rollback()
    assert db.get(VoucherPolicy, 1).four_eyes_threshold_cents == 150_000
    auth.logout()
    auth.login(world.case_manager.email, factories.PASSWORD)
    assert client.get("/vouchers/policy").status_code == 403


def test_a_case_manager_sees_only_their_municipalities_vouchers(client, auth, db, world):
    outsider = factories.client(db, home=world.other_home, last_name="Nivalalainen")
    hidden = factories.voucher(db, holder=outsider, service=world.fixed)
    db.commit()
    auth.login(world.case_manager.email, factories.PASSWORD)
    assert client.get(f"/vouchers/{hidden.id}").status_code == 404
    assert client.get(f"/vouchers/{hidden.id}/letter").status_code == 404
    assert "Nivalalainen" not in client.get("/vouchers/").get_data(as_text=True)
    searched = client.get("/vouchers/?q=Nivalalainen").get_data(as_text=True)
    assert "Palveluseteleitä ei löytynyt." in searched
    assert f"/vouchers/{hidden.id}" not in searched
