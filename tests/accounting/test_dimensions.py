"""Accounting dimensions: dated values in force, one row per key and date, validation, audit,
no change before a posted batch, cancelling a planned change, and the administrator's pages."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import post_form
from tests.settlement.conftest import events, voucher_for
from voucher.accounting import dimensions
from voucher.accounting.models import AccountingDimensions, AuthorityAccount, SupplierNumber
from voucher.audit.models import AuditEvent
from voucher.audit.services import Actor
from voucher.errors import ValidationFailed

ACTOR = Actor.system("test")


@pytest.fixture
def pair(db):
    home = factories.municipality(db, "977", "Ylivieska", dimensions=False)
    service = factories.service_type(db, "HOME_CARE", dimensions=False)
    db.commit()
    return home, service


def _set(db, pair, day, account, **values):
    home, service = pair
    return dimensions.set_service_dimensions(
        db, actor=ACTOR, municipality=home, service_type=service, valid_from=day,
        account=account, cost_centre=values.pop("cost_centre", "3977"), **values)


def test_the_value_in_force_is_the_latest_from_on_or_before_the_day(db, pair):
    _set(db, pair, dt.date(2026, 1, 1), "4341")
    _set(db, pair, dt.date(2026, 7, 1), "4351", project="P1")
    key = (pair[0].id, pair[1].id)
    assert dimensions.service_dimensions_in_force(db, dt.date(2025, 12, 31)) == {}
    assert dimensions.service_dimensions_in_force(db, dt.date(2026, 6, 30))[key].account == \
        "4341"
    july = dimensions.service_dimensions_in_force(db, dt.date(2026, 7, 1))[key]
    assert (july.account, july.project, july.vat_code) == ("4351", "P1", None)


def test_one_value_per_key_and_date(db, pair):
    _set(db, pair, dt.date(2026, 1, 1), "4341")
    with pytest.raises(dimensions.DimensionDateTaken):
        _set(db, pair, dt.date(2026, 1, 1), "4342")
    db.rollback()
    _set(db, pair, dt.date(2026, 1, 1), "4341")
    db.commit()
    db.add(AccountingDimensions(municipality_id=pair[0].id, service_type_id=pair[1].id,
                                valid_from=dt.date(2026, 1, 1), account="9", cost_centre="9"))
    with pytest.raises(sa.exc.IntegrityError):
        db.flush()
    db.rollback()
    provider = factories.provider(db, supplier_number=None)
    db.commit()
    db.add_all([SupplierNumber(provider_id=provider.id, valid_from=dt.date(2026, 1, 1),
                               supplier_number=n) for n in ("1", "2")])
    with pytest.raises(sa.exc.IntegrityError):
        db.flush()
    db.rollback()


def test_values_are_checked_with_translated_messages(app, db, pair):
    with app.test_request_context(headers={"Accept-Language": "fi"}), \
            pytest.raises(ValidationFailed) as refused:
        _set(db, pair, dt.date(2026, 1, 1), "", cost_centre="", vat_code="ALV 0")
    assert set(refused.value.errors) == {"account", "cost_centre", "vat_code"}
    assert refused.value.errors["account"] == "Anna kirjanpitotili."


def test_every_change_is_audited_with_what_was_in_force_before(db, pair):
    _set(db, pair, dt.date(2026, 1, 1), "4341")
    row = _set(db, pair, dt.date(2026, 7, 1), "4351")
    db.commit()
    event = db.execute(sa.select(AuditEvent).where(
        AuditEvent.action == "accounting.dimensions_set",
        AuditEvent.object_id == str(row.id))).scalar_one()
    assert event.data["before"]["account"] == "4341"
    assert event.data["after"]["account"] == "4351"
    assert (event.data["municipality"], event.data["service"]) == ("977", "HOME_CARE")


def test_no_change_takes_effect_on_or_before_a_posted_batch(app, db, world, settle):
    voucher = voucher_for(db, world, world.aurinko)
    factories.invoice(db, world.aurinko, events(db, voucher, (2, 100)))
    settle()
    with pytest.raises(dimensions.ChangeBeforePosting):
        dimensions.set_service_dimensions(
            db, actor=ACTOR, municipality=world.ylivieska, service_type=world.home_care,
            valid_from=dt.date(2026, 11, 24), account="4399", cost_centre="1")
    db.rollback()
    planned = dimensions.set_service_dimensions(
        db, actor=ACTOR, municipality=world.ylivieska, service_type=world.home_care,
        valid_from=dt.date(2026, 12, 1), account="4399", cost_centre="1")
    db.commit()
    dimensions.cancel_dimensions(db, planned.id, actor=ACTOR)
    db.commit()
    assert db.get(AccountingDimensions, planned.id) is None
    in_force = dimensions.service_dimensions_in_force(
        db, dt.date(2026, 11, 24))[(world.ylivieska.id, world.home_care.id)]
    with pytest.raises(dimensions.ChangeInForce):
        dimensions.cancel_dimensions(db, in_force.id, actor=ACTOR)
    db.rollback()


def test_the_administrator_keeps_the_dimensions_on_the_pages(client, auth, db, pair):
    admin = factories.user(db, email="finance@example.fi")
    factories.authority_dimensions(db)
    db.commit()
    auth.login(admin.email, factories.PASSWORD)
    page = client.get("/admin/accounting/").get_data(as_text=True)
    assert "Ylivieska" in page and "puuttuu" in page  # nothing in force for the pair yet
    url = f"/admin/accounting/services/{pair[0].id}/{pair[1].id}"
    refused = post_form(client, url, {"valid_from": "1.1.2026", "account": "43 41",
                                      "cost_centre": ""}, form_page=url)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Anna kustannuspaikka." in text and "Käytä 1–20 kirjainta" in text
    saved = post_form(client, url, {"valid_from": "1.1.2026", "account": "4341",
                                    "cost_centre": "39771", "vat_code": "ALV0"},
                      form_page=url)
    assert saved.status_code == 303
    db.rollback()
    row = db.execute(sa.select(AccountingDimensions).where(
        AccountingDimensions.municipality_id == pair[0].id)).scalar_one()
    assert (row.account, row.cost_centre, row.vat_code, row.project) == (
        "4341", "39771", "ALV0", None)
    assert "39771" in client.get(url).get_data(as_text=True)
    bank = post_form(client, "/admin/accounting/authority/bank",
                     {"valid_from": "1.2.2026", "account": "1911"},
                     form_page="/admin/accounting/authority/bank")
    assert bank.status_code == 303
    db.rollback()
    assert dimensions.authority_dimensions_in_force(
        db, dt.date(2026, 2, 1))[AuthorityAccount.BANK].account == "1911"
    provider = factories.provider(db, supplier_number=None)
    db.commit()
    supplier_url = f"/admin/accounting/suppliers/{provider.id}"
    assert post_form(client, supplier_url, {"valid_from": "1.1.2026",
                                            "supplier_number": "20077"},
                     form_page=supplier_url).status_code == 303
    db.rollback()
    assert dimensions.supplier_numbers_in_force(db, dt.date(2026, 11, 24))[provider.id] == \
        "20077"
