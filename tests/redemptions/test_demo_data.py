"""The demo: vouchers in the demo provider's use, rated events, an invoice to decide."""

import sqlalchemy as sa

from voucher.demo import load_demo
from voucher.demo.redemptions import CLEANING_CODE, HOME_CARE_CODE
from voucher.feedback.services import average_ratings
from voucher.invoicing.models import Invoice, InvoiceStatus
from voucher.redemptions.models import Redemption
from voucher.vouchers.models import Voucher, VoucherStatus


def test_the_demo_provider_has_vouchers_events_and_an_invoice(demo):
    vouchers = {v.code: v for v in demo.execute(sa.select(Voucher)).scalars()}
    home_care, cleaning = vouchers[HOME_CARE_CODE], vouchers[CLEANING_CODE]
    assert home_care.status == cleaning.status == VoucherStatus.ASSIGNED
    assert home_care.units_used == 0 and cleaning.units_used == 1550
    assert home_care.provider_id == cleaning.provider_id
    invoice = demo.execute(sa.select(Invoice).where(
        Invoice.status == InvoiceStatus.SUBMITTED,
        Invoice.provider_id == cleaning.provider_id)).scalar_one()
    assert invoice.line_count == 6
    assert average_ratings(demo, [cleaning.provider_id]) == {cleaning.provider_id: 8.8}


def test_loading_the_demo_again_adds_no_events(demo):
    count = sa.select(sa.func.count()).select_from(Redemption)
    before = demo.execute(count).scalar()
    load_demo(demo)
    demo.commit()
    assert demo.execute(count).scalar() == before > 0
