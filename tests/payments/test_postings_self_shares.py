"""Self-shares paid online in the posting file: passed on as a debit of the clearing account,
a refund recovered from a later payment as its credit, each on the paying municipality."""

import datetime as dt
import json

from tests import factories
from tests.payments.conftest import ACTOR, confirm, start
from tests.payments.test_refunds_and_settlement import paid_october
from tests.stripe_fake import intent, signed_event
from voucher.accounting.models import PostingFile
from voucher.invoicing.models import InvoiceStatus
from voucher.redemptions.corrections import correct_redemption
from voucher.settlement.reconciliation import find_differences
from voucher.settlement.run import Payer, settle_approved_invoices


def _summary(db, batch):
    lines = json.loads(db.get(PostingFile, batch.id).json_content)["lines"]
    return [(x["kind"], x["account"], x["debit_cents"], x["credit_cents"]) for x in lines]


def test_self_shares_and_recoveries_are_posted_on_the_clearing_account(
        app, db, client, world, stripe_fake):
    paid_october(db, client, world, stripe_fake)
    factories.invoice(db, world.provider, world.october, status=InvoiceStatus.APPROVED)
    db.commit()
    first = settle_approved_invoices(db, actor=ACTOR, payer=Payer.from_config(app.config))
    db.commit()
    assert _summary(db, first.batch) == [
        ("voucher_share", "4360", 9600, 0), ("self_share", "2880", 2100, 0),
        ("bank", "1910", 0, 11700)]
    # One October event is corrected (its 7 € goes back to the client); November's events
    # are paid online and settled with the correction, which recovers the 7 €.
    correct_redemption(db, provider_id=world.provider.id, redemption_id=world.october[1].id,
                       replacement=None, actor=ACTOR)
    more = [factories.redemption(db, world.voucher, day=dt.date(2026, 11, d), units=100)
            for d in (9, 16)]
    db.commit()
    november = start(db, world, period=dt.date(2026, 11, 1))
    confirm(db, stripe_fake, november)
    payload, headers = signed_event("payment_intent.succeeded",
                                    intent(stripe_fake, november.stripe_payment_intent_id))
    assert client.post("/payments/stripe/webhook", data=payload,
                       headers=headers).json["outcome"] == "succeeded"
    db.rollback()
    from voucher.redemptions.models import Redemption

    correction = db.query(Redemption).filter(Redemption.corrects_id.is_not(None)).one()
    factories.invoice(db, world.provider, [*world.november, *more, correction],
                      status=InvoiceStatus.APPROVED)
    db.commit()
    second = settle_approved_invoices(db, actor=ACTOR, payer=Payer.from_config(app.config))
    db.commit()
    payment = second.batch.payments[0]
    assert (payment.voucher_share_cents, payment.self_share_cents) == (6400, 1400)
    assert _summary(db, second.batch) == [
        ("voucher_share", "4360", 9600, 0), ("correction", "4360", 0, 3200),
        ("self_share", "2880", 2100, 0), ("recovery", "2880", 0, 700),
        ("bank", "1910", 0, 7800)]
    assert find_differences(db) == []
