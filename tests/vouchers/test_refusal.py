"""The client refuses a voucher (569/2009 section 6), online or through the case manager: the
voucher is cancelled with the day, its whole commitment released, the case manager and the
provider told; once a service is recorded, a refusal changes nothing."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from tests.concurrency import run_in_parallel
from tests.conftest import post_form
from voucher import clock
from voucher.audit.models import AuditEvent
from voucher.audit.services import Actor
from voucher.budgets.models import Budget, BudgetEntry, EntryKind
from voucher.mail.models import OutboxMessage
from voucher.redemptions.models import Redemption
from voucher.redemptions.services import EventInput, record_redemption
from voucher.vouchers import choice, lifecycle
from voucher.vouchers.models import AssignmentStatus, Voucher, VoucherAssignment, VoucherStatus


def _client_login(db, world, auth):
    auth.login(world.client_user.email, factories.PASSWORD)


def _committed(db, voucher) -> int:
    db.rollback()
    return db.execute(sa.select(sa.func.sum(Budget.committed_cents - Budget.released_cents))
                      ).scalar()


def test_the_client_refuses_a_voucher_and_everything_follows(client, auth, db, world):
    voucher = factories.voucher(db, holder=world.client, service=world.fixed,
                                unit_value_cents=2500, units=1000, creator=world.case_manager)
    choice.choose_provider(db, voucher, provider_id=world.provider.id,
                           actor=world.actor(world.client_user), via="client")
    db.commit()
    assignment = choice.open_assignment(db, voucher.id, AssignmentStatus.PROPOSED)
    before = _committed(db, voucher)
    _client_login(db, world, auth)
    page = client.get(f"/vouchers/mine/{voucher.id}").get_data(as_text=True)
    assert f'href="/vouchers/mine/{voucher.id}/refuse"' in page
    response = post_form(client, f"/vouchers/mine/{voucher.id}/refuse", {})
    assert response.status_code == 303
    db.rollback()
    voucher = db.get(Voucher, voucher.id)
    assert (voucher.status, voucher.refused_on) == (VoucherStatus.CANCELLED, clock.today())
    assert db.get(VoucherAssignment, assignment.id).status == AssignmentStatus.ENDED
    assert _committed(db, voucher) == before - 25_000
    release = db.execute(sa.select(BudgetEntry).where(
        BudgetEntry.voucher_id == voucher.id, BudgetEntry.kind == EntryKind.RELEASE)).scalar_one()
    assert (release.amount_cents, release.reason) == (25_000, "refused")
    assert db.execute(sa.select(AuditEvent.action).where(
        AuditEvent.action == "voucher.refused")).scalar_one()
    mails = {m.template: m for m in db.execute(sa.select(OutboxMessage)).scalars()}
    assert mails["vouchers/refused_case_manager"].to_address == world.case_manager.email
    assert voucher.decision_number in mails["vouchers/refused_case_manager"].body_text
    assert world.client.full_name not in mails["vouchers/refused_case_manager"].body_text
    assert "vouchers/refused" in mails and "vouchers/cancelled_provider" in mails


def test_a_voucher_with_a_service_recorded_cannot_be_refused(client, auth, db, world):
    voucher = factories.voucher(db, holder=world.client, service=world.fixed,
                                assigned_to=world.provider, unit_value_cents=2500, units=1000)
    factories.redemption(db, voucher, day=clock.today(), units=100)
    db.commit()
    before = _committed(db, voucher)
    _client_login(db, world, auth)
    page = client.get(f"/vouchers/mine/{voucher.id}").get_data(as_text=True)
    assert "/refuse" not in page
    response = post_form(client, f"/vouchers/mine/{voucher.id}/refuse", {})
    assert response.status_code == 409
    assert "services have already been recorded" in response.get_data(as_text=True) or \
        "sille on jo kirjattu palveluja" in response.get_data(as_text=True)
    db.rollback()
    assert db.get(Voucher, voucher.id).status == VoucherStatus.ASSIGNED
    assert db.get(Voucher, voucher.id).refused_on is None
    assert _committed(db, voucher) == before
    assert not db.execute(sa.select(OutboxMessage)).scalars().all()


def test_the_case_manager_records_a_refusal_received_on_paper(client, auth, db, world):
    voucher = factories.voucher(db, holder=world.client, service=world.fixed,
                                unit_value_cents=2500, units=400, creator=world.case_manager)
    db.commit()
    auth.login(world.case_manager.email, factories.PASSWORD)
    url = f"/vouchers/{voucher.id}/refusal"
    assert f'href="{url}"' in client.get(f"/vouchers/{voucher.id}").get_data(as_text=True)
    tomorrow = clock.today() + dt.timedelta(days=1)
    response = post_form(client, url, {"refused_on": f"{tomorrow:%d.%m.%Y}"})
    assert response.status_code == 422
    assert "ei ennen päätöstä eikä tulevaisuudessa" in response.get_data(as_text=True)
    db.rollback()
    assert db.get(Voucher, voucher.id).status == VoucherStatus.ISSUED
    today = clock.today()
    response = post_form(client, url, {"refused_on": f"{today:%d.%m.%Y}"})
    assert response.status_code == 303
    db.rollback()
    assert db.get(Voucher, voucher.id).refused_on == today
    page = client.get(f"/vouchers/{voucher.id}").get_data(as_text=True)
    assert "Asiakas kieltäytyi setelistä; sitoumus vapautettu" in page


@pytest.mark.postgres_only
@pytest.mark.parametrize("attempt", range(3))
def test_a_refusal_and_a_service_event_at_once_end_in_one_of_them(app, db, world, database_url,
                                                                   attempt):
    """Whichever commits first wins: a refused voucher takes no event, and a voucher with an
    event stays in force; the budget holds exactly what the outcome needs."""
    voucher = factories.voucher(db, holder=world.client, service=world.fixed,
                                assigned_to=world.provider, unit_value_cents=2500, units=1000)
    db.commit()
    voucher_id, before = voucher.id, _committed(db, voucher)

    def work(session, i):
        target = session.get(Voucher, voucher_id)
        if i == 0:
            lifecycle.refuse_voucher(session, target, refused_on=clock.today(),
                                     actor=Actor.system("test"))
        else:
            record_redemption(session, voucher=target, source="portal",
                              event=EventInput(clock.today(), 100), actor=Actor.system("test"))

    outcomes = run_in_parallel(database_url, work, 2, app=app)
    assert sum(outcomes.values()) == 2 and outcomes["ok"] == 1
    db.rollback()
    voucher = db.get(Voucher, voucher_id)
    events = db.execute(sa.select(sa.func.count()).select_from(Redemption).where(
        Redemption.voucher_id == voucher_id)).scalar()
    if voucher.status == VoucherStatus.CANCELLED:
        assert (events, voucher.units_used, voucher.refused_on) == (0, 0, clock.today())
        assert _committed(db, voucher) == before - 25_000
    else:
        assert outcomes["CannotRefuse"] == 1
        assert (events, voucher.units_used, voucher.refused_on) == (1, 100, None)
        assert _committed(db, voucher) == before
