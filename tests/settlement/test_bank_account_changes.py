"""Settlement pays the provider's verified account: never one waiting for approval."""

from tests import factories
from tests.settlement.conftest import events, voucher_for
from voucher.accounts.models import Role
from voucher.audit.services import Actor
from voucher.providers import application

OLD = "FI2112345600000785"
NEW = "FI5810171000000122"  # not the payer's own account (FI49 5000 9420 0287 30)


def _ask_for_new_account(db, world):
    user = factories.user(db, role=Role.PROVIDER, provider_id=world.aurinko.id)
    application.save_application(
        db, world.aurinko, actor=Actor.of_user(user), details={"iban": NEW, "bic": "OKOYFIHH"},
        municipality_ids=[m.id for m in world.aurinko.municipalities],
        languages=world.aurinko.language_codes, offers=[])
    return user


def test_a_pending_change_is_not_paid_and_never_in_the_file(db, world, settle):
    _ask_for_new_account(db, world)
    voucher = voucher_for(db, world, world.aurinko)
    factories.invoice(db, world.aurinko, events(db, voucher, (2, 100)))  # sent after the ask
    result = settle()
    [payment] = result.batch.payments
    assert (payment.iban, payment.bic) == (OLD, "NDEAFIHH")
    assert NEW not in result.batch.sepa_xml and OLD in result.batch.sepa_xml


def test_an_approved_change_is_paid_from_the_next_run(db, world, settle):
    from voucher.providers.bank_accounts import approve_bank_account_change, pending_change

    _ask_for_new_account(db, world)
    voucher = voucher_for(db, world, world.aurinko)
    factories.invoice(db, world.aurinko, events(db, voucher, (2, 100)))
    approve_bank_account_change(db, pending_change(db, world.aurinko),
                                actor=Actor.of_user(world.admin))
    [payment] = settle().batch.payments
    assert (payment.iban, payment.bic) == (NEW, "OKOYFIHH")
