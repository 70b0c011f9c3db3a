"""An approved provider's change of bank account waits for a second person's approval: notices
to the provider's users and the administrators, old and new account masked in the audit, and
payments to the verified account until the approval."""

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import post_form
from tests.providers.conftest import PASSWORD, login
from voucher.accounts.models import Role
from voucher.audit.models import AuditEvent
from voucher.audit.services import Actor
from voucher.errors import DomainError, PermissionDenied, ValidationFailed
from voucher.mail.models import OutboxMessage
from voucher.providers import application
from voucher.providers.models import Provider, ProviderStatus

OLD = "FI2112345600000785"  # the factories' account
NEW = "FI4950009420028730"
NEW_MASKED = "FI49 **** **** **87 30"
OLD_MASKED = "FI21 **** **** **07 85"


@pytest.fixture
def seller(db):
    return factories.provider(db, services={factories.service_type(db): 3900})


@pytest.fixture
def staff(db, seller):
    """Two users of the provider, two administrators, and an administrator who is also a user
    of the provider."""
    users = dict(
        sari=factories.user(db, role=Role.PROVIDER, provider_id=seller.id,
                            email="sari@example.fi", password=PASSWORD),
        pekka=factories.user(db, role=Role.PROVIDER, provider_id=seller.id,
                             email="pekka@example.fi", language="sv"),
        admin=factories.user(db, role=Role.ADMIN, email="admin@example.fi",
                             password=factories.PASSWORD),
        second_admin=factories.user(db, role=Role.ADMIN, email="admin2@example.fi"),
        insider=factories.user(db, role=Role.ADMIN, email="insider@example.fi",
                               provider_id=seller.id),
    )
    db.commit()
    return users


def _save_account(db, provider, user, iban=NEW, bic="OKOYFIHH"):
    application.save_application(db, provider, actor=Actor.of_user(user),
                                 details={"iban": iban, "bic": bic}, municipality_ids=[
                                     m.id for m in provider.municipalities],
                                 languages=provider.language_codes, offers=[])


def _pending(db, provider):
    from voucher.providers.bank_accounts import pending_change

    return pending_change(db, provider)


def test_an_approved_providers_new_account_waits_for_approval(db, seller, staff):
    _save_account(db, seller, staff["sari"])
    db.commit()
    assert (db.get(Provider, seller.id).iban, db.get(Provider, seller.id).bic) == (
        OLD, "NDEAFIHH")
    change = _pending(db, seller)
    assert (change.iban, change.bic, change.old_iban) == (NEW, "OKOYFIHH", OLD)
    # every user of the provider and every administrator gets a notice
    recipients = set(db.execute(sa.select(OutboxMessage.to_address)).scalars())
    assert {"sari@example.fi", "pekka@example.fi", "admin@example.fi",
            "admin2@example.fi"} <= recipients
    to_pekka = db.execute(sa.select(OutboxMessage).where(
        OutboxMessage.to_address == "pekka@example.fi")).scalar_one()
    assert NEW_MASKED in to_pekka.body_text and OLD_MASKED in to_pekka.body_text
    assert NEW not in to_pekka.body_text
    # the audit shows old and new, masked, never the whole new account
    [event] = db.execute(sa.select(AuditEvent).where(
        AuditEvent.action == "provider.bank_account_change_requested")).scalars()
    assert event.data["old_account"] == f"{OLD_MASKED} (NDEAFIHH)"
    assert event.data["new_account"] == f"{NEW_MASKED} (OKOYFIHH)"
    assert NEW not in str(event.data)


def test_saving_the_same_account_again_changes_nothing_and_the_old_one_withdraws(
        db, seller, staff):
    _save_account(db, seller, staff["sari"])
    first = _pending(db, seller)
    _save_account(db, seller, staff["sari"])  # the form shows the account asked for
    assert _pending(db, seller).id == first.id
    _save_account(db, seller, staff["sari"], iban=OLD, bic="NDEAFIHH")
    assert _pending(db, seller) is None and first.status == "withdrawn"
    assert db.get(Provider, seller.id).iban == OLD


def test_four_eyes_the_requester_and_users_of_the_provider_cannot_approve(db, seller, staff):
    from voucher.providers.bank_accounts import approve_bank_account_change

    _save_account(db, seller, staff["sari"])
    change = _pending(db, seller)
    for user in (staff["sari"], staff["insider"]):
        with pytest.raises(PermissionDenied):
            approve_bank_account_change(db, change, actor=Actor.of_user(user))
    assert db.get(Provider, seller.id).iban == OLD
    approve_bank_account_change(db, change, actor=Actor.of_user(staff["admin"]))
    db.commit()
    assert (db.get(Provider, seller.id).iban, db.get(Provider, seller.id).bic) == (
        NEW, "OKOYFIHH")
    assert _pending(db, seller) is None
    [event] = db.execute(sa.select(AuditEvent).where(
        AuditEvent.action == "provider.bank_account_change_approved")).scalars()
    assert (event.data["old_account"], event.data["new_account"]) == (
        f"{OLD_MASKED} (NDEAFIHH)", f"{NEW_MASKED} (OKOYFIHH)")
    with pytest.raises(DomainError):  # decided once
        approve_bank_account_change(db, change, actor=Actor.of_user(staff["second_admin"]))


def test_a_rejection_needs_a_reason_and_keeps_the_verified_account(db, seller, staff, outbox):
    from voucher.providers.bank_accounts import reject_bank_account_change

    _save_account(db, seller, staff["sari"])
    change = _pending(db, seller)
    with pytest.raises(ValidationFailed):
        reject_bank_account_change(db, change, actor=Actor.of_user(staff["admin"]), reason=" ")
    reject_bank_account_change(db, change, actor=Actor.of_user(staff["admin"]),
                               reason="Emme tavoittaneet yritystä varmistamaan muutosta.")
    assert db.get(Provider, seller.id).iban == OLD
    [*_, notice] = outbox("sari@example.fi")
    assert "Emme tavoittaneet" in notice.body_text


def test_a_provider_not_yet_approved_enters_its_account_in_the_application(db, staff):
    provider = factories.provider(db, status=ProviderStatus.DRAFT)
    user = factories.user(db, role=Role.PROVIDER, provider_id=provider.id)
    _save_account(db, provider, user)
    assert db.get(Provider, provider.id).iban == NEW and _pending(db, provider) is None


def test_masking():
    from voucher.providers.bank_accounts import mask_iban

    assert mask_iban(NEW) == NEW_MASKED
    assert mask_iban("FI49 5000 9420 0287 30") == NEW_MASKED
    assert mask_iban("DE89370400440532013000") == "DE89 **** **** **** **30 00"


def test_the_pages_provider_asks_admin_sees_the_list_and_approves(client, db, auth, seller,
                                                                  staff, catalogue):
    login(auth, staff["sari"])
    form = client.get("/provider/application/edit").get_data(as_text=True)
    assert 'id="bank-account-hint"' in form
    data = {"action": "save", "iban": "FI49 5000 9420 0287 30", "bic": "OKOYFIHH",
            "contact_person": "Test Person", "municipalities": [
                str(m.id) for m in seller.municipalities], "languages": ["fi"]}
    for offer in seller.services:
        data[f"service_{offer.service_type_id}_offered"] = "y"
        data[f"service_{offer.service_type_id}_price"] = "39,00"
        data[f"service_{offer.service_type_id}_criteria"] = "y"
    response = post_form(client, "/provider/application/edit", data)
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    page = client.get("/provider/application").get_data(as_text=True)
    assert "FI49 5000 9420 0287 30" in page and "FI21 1234 5600 0007 85" in page
    auth.logout()
    login(auth, staff["admin"])
    queue = client.get("/admin/providers").get_data(as_text=True)
    assert NEW_MASKED in queue and seller.name in queue
    change = _pending(db, seller)
    url = f"/admin/providers/{seller.id}"
    response = post_form(client, f"/admin/providers/bank-account-changes/{change.id}",
                         {"decision": "reject", "bank-reason": ""}, form_page=url)
    assert response.status_code == 422
    response = post_form(client, f"/admin/providers/bank-account-changes/{change.id}",
                         {"decision": "approve", "bank-reason": "Varmistettu puhelimitse."},
                         form_page=url)
    assert response.status_code == 303
    db.rollback()
    assert db.get(Provider, seller.id).iban == NEW
