"""Recording service events: prices, the split, refusals, units, void and correction."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from voucher.audit.models import AuditEvent
from voucher.audit.services import Actor
from voucher.errors import NotFound, ValidationFailed
from voucher.invoicing.services import approve_invoice
from voucher.providers.models import PriceStatus, ProviderPrice
from voucher.providers.pricing import provider_service_for
from voucher.redemptions.corrections import (
    AlreadyInvoiced,
    CannotCorrect,
    correct_redemption,
    void_redemption,
)
from voucher.redemptions.models import ClientShareStatus, Redemption, RedemptionStatus
from voucher.redemptions.services import (
    EventInput,
    NoApprovedPrice,
    PriceAboveApproved,
    find_provider_voucher,
    preview_redemption,
    record_redemption,
)
from voucher.vouchers.models import VoucherStatus
from voucher.vouchers.units import InsufficientUnits, OutsideValidity, VoucherNotActive

SYSTEM = Actor.system("test")
NOV_20 = dt.date(2026, 11, 20)


@pytest.fixture
def seller(db):
    """A provider whose approved home-care price is 39 € (the voucher value is 32 €)."""
    return factories.provider(db, services={factories.service_type(db): 3900})


def _voucher(db, seller, **kwargs):
    return factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                             **kwargs)


def _record(db, voucher, day=NOV_20, units=200, price=None, **kwargs):
    return record_redemption(db, voucher=voucher, source="portal", actor=SYSTEM, event=EventInput(
        service_date=day, units=units, unit_price_cents=price, **kwargs))


def test_the_voucher_pays_its_value_and_the_client_the_rest(db, seller):
    voucher = _voucher(db, seller)
    event = _record(db, voucher, units=150)
    assert (event.unit_price_cents, event.voucher_pays_cents, event.client_pays_cents) == (
        3900, 4800, 1050)
    assert event.client_share_status == ClientShareStatus.DUE
    assert event.status == RedemptionStatus.RECORDED
    assert voucher.units_used == 150


def test_a_price_below_the_voucher_value_leaves_no_self_share(db, seller):
    event = _record(db, _voucher(db, seller), price=3000)
    assert (event.voucher_pays_cents, event.client_pays_cents) == (6000, 0)
    assert event.client_share_status is None


def test_the_price_above_the_approved_one_is_refused(db, seller):
    voucher = _voucher(db, seller)
    with pytest.raises(PriceAboveApproved, match="39,00") as refused:
        _record(db, voucher, price=3901)
    assert refused.value.field == "unit_price_cents"
    assert voucher.units_used == 0


def test_the_approved_price_of_the_service_date_applies(db, seller):
    offer = provider_service_for(db, seller.id, factories.service_type(db).id)
    db.add(ProviderPrice(provider_service_id=offer.id, unit_price_cents=4200,
                         valid_from=dt.date(2026, 11, 15), status=PriceStatus.APPROVED))
    db.add(ProviderPrice(provider_service_id=offer.id, unit_price_cents=9900,
                         valid_from=dt.date(2026, 11, 18), status=PriceStatus.PENDING))
    voucher = _voucher(db, seller)
    assert _record(db, voucher, day=dt.date(2026, 11, 14)).unit_price_cents == 3900
    assert _record(db, voucher, day=NOV_20).unit_price_cents == 4200


def test_without_an_approved_price_nothing_is_recorded(db):
    seller = factories.provider(db)
    voucher = _voucher(db, seller)
    with pytest.raises(NoApprovedPrice):
        _record(db, voucher)


def test_bad_input_is_refused_field_by_field(db, seller):
    voucher = _voucher(db, seller)
    with pytest.raises(ValidationFailed) as refused:
        _record(db, voucher, day=dt.date(2026, 11, 25), units=0, price=-5,
                caregiver_ref="Maija Meikäläinen")
    assert set(refused.value.errors) == {"service_date", "units", "unit_price_cents",
                                         "caregiver_ref"}
    assert "tulevaisuudessa" in refused.value.errors["service_date"]


def test_whole_units_only_when_the_service_is_not_divisible(db):
    visits = factories.service_type(db, "CLEANING_VISIT", fractional_units=False)
    seller = factories.provider(db, services={visits: 3000})
    voucher = factories.voucher(db, service=visits, assigned_to=seller)
    with pytest.raises(ValidationFailed) as refused:
        _record(db, voucher, units=150)
    assert "kokonaisia" in refused.value.errors["units"]


def test_a_date_outside_the_validity_is_refused(db, seller):
    voucher = _voucher(db, seller, valid_from=dt.date(2026, 11, 10))
    with pytest.raises(OutsideValidity) as refused:
        _record(db, voucher, day=dt.date(2026, 11, 9))
    assert refused.value.code == "voucher_not_active"
    assert "10.11.2026" in str(refused.value)


@pytest.mark.parametrize("status", [VoucherStatus.EXPIRED, VoucherStatus.CANCELLED,
                                    VoucherStatus.ISSUED])
def test_a_voucher_not_in_the_providers_use_cannot_be_used(db, seller, status):
    voucher = _voucher(db, seller, status=status)
    with pytest.raises(VoucherNotActive):
        _record(db, voucher)


def test_an_exhausted_voucher_has_no_units_left(db, seller):
    voucher = _voucher(db, seller, status=VoucherStatus.EXHAUSTED)
    with pytest.raises(InsufficientUnits):
        _record(db, voucher)


def test_another_providers_voucher_is_not_found(db, seller):
    voucher = _voucher(db, seller)
    other = factories.provider(db, services={factories.service_type(db): 3900})
    with pytest.raises(NotFound):
        find_provider_voucher(db, provider_id=other.id, code=voucher.code)
    assert find_provider_voucher(db, provider_id=seller.id, code=voucher.code.lower()) == voucher


def test_more_units_than_remain_is_refused_and_the_last_unit_exhausts(db, seller):
    voucher = _voucher(db, seller, units=300)
    _record(db, voucher, units=200)
    with pytest.raises(InsufficientUnits, match="jäljellä 1"):
        _record(db, voucher, units=200)
    _record(db, voucher, units=100)
    assert voucher.status == VoucherStatus.EXHAUSTED
    assert voucher.committed_cents == 9600  # the commitment stays until settlement


def test_the_preview_saves_nothing(db, seller):
    voucher = _voucher(db, seller)
    preview = preview_redemption(db, voucher=voucher, event=EventInput(NOV_20, 200))
    assert (preview.voucher_pays_cents, preview.client_pays_cents) == (6400, 1400)
    assert preview.units_remaining_after == 800
    assert db.execute(sa.select(sa.func.count()).select_from(Redemption)).scalar() == 0


def test_recording_is_audited(db, seller):
    voucher = _voucher(db, seller)
    event = _record(db, voucher)
    db.commit()
    audited = db.execute(sa.select(AuditEvent).where(
        AuditEvent.action == "redemption.recorded")).scalar_one()
    assert audited.object_id == str(event.id) and audited.client_id == voucher.client_id
    assert audited.data["voucher_pays_cents"] == 6400


def test_voiding_returns_the_units_once(db, seller):
    voucher = _voucher(db, seller, units=200)
    event = _record(db, voucher)
    assert voucher.status == VoucherStatus.EXHAUSTED
    void_redemption(db, provider_id=seller.id, redemption_id=event.id, actor=SYSTEM)
    void_redemption(db, provider_id=seller.id, redemption_id=event.id, actor=SYSTEM)
    assert event.status == RedemptionStatus.VOID and event.voided_at is not None
    assert voucher.units_used == 0 and voucher.status == VoucherStatus.ASSIGNED


def test_an_invoiced_event_cannot_be_voided(db, seller):
    voucher = _voucher(db, seller, valid_from=dt.date(2026, 10, 1))
    event = _record(db, voucher, day=dt.date(2026, 10, 5))
    invoice = factories.monthly_invoice(db, seller)
    with pytest.raises(AlreadyInvoiced, match=str(invoice.number)):
        void_redemption(db, provider_id=seller.id, redemption_id=event.id, actor=SYSTEM)
    assert voucher.units_used == 200


def test_another_providers_event_cannot_be_voided(db, seller):
    event = _record(db, _voucher(db, seller))
    other = factories.provider(db)
    with pytest.raises(NotFound):
        void_redemption(db, provider_id=other.id, redemption_id=event.id, actor=SYSTEM)


def test_correcting_an_invoiced_event(db, seller):
    voucher = _voucher(db, seller, valid_from=dt.date(2026, 10, 1))
    event = _record(db, voucher, day=dt.date(2026, 10, 5), units=300)
    with pytest.raises(CannotCorrect, match="ei ole vielä laskutettu"):
        correct_redemption(db, provider_id=seller.id, redemption_id=event.id,
                           replacement=None, actor=SYSTEM)
    invoice = factories.monthly_invoice(db, seller)
    with pytest.raises(CannotCorrect, match="odottaa"):
        correct_redemption(db, provider_id=seller.id, redemption_id=event.id,
                           replacement=None, actor=SYSTEM)
    approve_invoice(db, invoice_id=invoice.id, actor=SYSTEM)
    correction, replacement = correct_redemption(
        db, provider_id=seller.id, redemption_id=event.id, actor=SYSTEM,
        replacement=EventInput(dt.date(2026, 10, 5), 200))
    assert (correction.units, correction.voucher_pays_cents, correction.client_pays_cents) == (
        -300, -9600, -2100)
    assert correction.corrects_id == event.id and correction.client_share_status is None
    assert replacement.units == 200 and replacement.status == RedemptionStatus.RECORDED
    assert voucher.units_used == 200
    assert event.status == RedemptionStatus.INVOICED  # the sent invoice is not touched
    with pytest.raises(CannotCorrect, match="jo korjattu"):
        correct_redemption(db, provider_id=seller.id, redemption_id=event.id,
                           replacement=None, actor=SYSTEM)
    with pytest.raises(CannotCorrect):
        void_redemption(db, provider_id=seller.id, redemption_id=correction.id, actor=SYSTEM)
