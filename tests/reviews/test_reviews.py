"""Requests for review: filed online by the client or recorded from paper, late or in time,
one waiting at a time, decided once by another case manager, with a letter of its own."""

import datetime as dt
import io

import pikepdf
import pytest
import sqlalchemy as sa

from tests import factories
from tests.concurrency import run_in_parallel
from tests.conftest import post_form
from voucher import clock
from voucher.audit.services import Actor
from voucher.mail.models import OutboxMessage
from voucher.reviews import services
from voucher.reviews.models import ReviewChannel, ReviewOutcome, ReviewRequest
from voucher.vouchers.delivery import deliver


def _voucher(db, world):
    voucher = factories.voucher(db, holder=world.client, service=world.fixed,
                                unit_value_cents=2500, creator=world.case_manager)
    deliver(db, voucher)
    db.commit()
    return voucher


def _requests(db) -> list[ReviewRequest]:
    db.rollback()
    return db.execute(sa.select(ReviewRequest).order_by(ReviewRequest.id)).scalars().all()


def test_the_client_files_a_request_online_and_the_maker_is_told(client, auth, db, world):
    voucher = _voucher(db, world)
    auth.login(world.client_user.email, factories.PASSWORD)
    page = client.get(f"/vouchers/mine/{voucher.id}").get_data(as_text=True)
    assert f'href="/vouchers/mine/{voucher.id}/review"' in page
    form = client.get(f"/vouchers/mine/{voucher.id}/review").get_data(as_text=True)
    deadline = clock.today() + dt.timedelta(days=33)
    assert f"Tee vaatimus viimeistään {deadline:%-d.%-m.%Y}." in form
    empty = post_form(client, f"/vouchers/mine/{voucher.id}/review", {"request_text": " "})
    assert empty.status_code == 422 and not _requests(db)
    response = post_form(client, f"/vouchers/mine/{voucher.id}/review",
                         {"request_text": "Tunnit eivät riitä."})
    assert response.status_code == 303
    [filed] = _requests(db)
    assert (filed.channel, filed.received_on, filed.late) == (
        ReviewChannel.ONLINE, clock.today(), False)
    templates = {m.template: m.to_address for m in db.execute(
        sa.select(OutboxMessage)).scalars()}
    assert templates["vouchers/review_filed"] == world.case_manager.email
    assert templates["vouchers/review_received"] == world.client.email
    # One waits at a time.
    again = post_form(client, f"/vouchers/mine/{voucher.id}/review",
                      {"request_text": "Vielä kerran."})
    assert again.status_code == 422 and len(_requests(db)) == 1
    assert "Tästä päätöksestä on jo oikaisuvaatimus odottamassa" in again.get_data(as_text=True)


def test_a_request_on_paper_after_the_time_is_recorded_late(client, auth, db, world):
    voucher = factories.voucher(db, holder=world.client, service=world.fixed,
                                unit_value_cents=2500, creator=world.case_manager)
    db.commit()
    later = clock.now() + dt.timedelta(days=40)
    with clock.frozen_at(later):
        deliver(db, voucher)  # delivered electronically on the day: received 3 days on
        db.commit()
    auth.login(world.second_case_manager.email, factories.PASSWORD)
    url = f"/vouchers/{voucher.id}/reviews/new"
    future = clock.today() + dt.timedelta(days=1)
    refused = post_form(client, url, {"received_on": future.isoformat(),
                                      "request_text": "Liian vähän."})
    assert refused.status_code == 422 and not _requests(db)
    filed = services.file_request(db, voucher, channel=ReviewChannel.PAPER,
                                  received_on=clock.today(), text="Liian vähän.",
                                  actor=Actor.system("test"))
    db.commit()
    assert filed.late is False  # delivered later than it arrived: not late
    db.delete(filed)
    db.commit()
    with clock.frozen_at(later + dt.timedelta(days=40)):
        filed = services.file_request(db, voucher, channel=ReviewChannel.PAPER,
                                      received_on=clock.today(), text="Liian vähän.",
                                      actor=Actor.system("test"))
        assert filed.late is True


def test_another_case_manager_decides_once_and_the_letter_follows(client, auth, db, world):
    voucher = _voucher(db, world)
    filed = services.file_request(db, voucher, channel=ReviewChannel.ONLINE,
                                  received_on=clock.today(), text="Tunnit eivät riitä.",
                                  actor=Actor.system("test"))
    db.commit()
    auth.login(world.case_manager.email, factories.PASSWORD)  # the decision's maker
    own = post_form(client, f"/reviews/{filed.id}",
                    {"outcome": "upheld", "reasoning": "Tarve on arvioitu oikein."})
    assert own.status_code == 422
    assert "ei voi ratkaista sen oikaisuvaatimusta" in own.get_data(as_text=True)
    assert _requests(db)[0].decided_at is None
    auth.logout()
    auth.login(world.second_case_manager.email, factories.PASSWORD)
    assert f'href="/reviews/{filed.id}"' in client.get("/reviews/").get_data(as_text=True)
    missing = post_form(client, f"/reviews/{filed.id}", {"outcome": "upheld"})
    assert missing.status_code == 422 and _requests(db)[0].decided_at is None
    decided = post_form(client, f"/reviews/{filed.id}",
                        {"outcome": "upheld", "reasoning": "Tarve on arvioitu oikein."})
    assert decided.status_code == 303
    [review] = _requests(db)
    assert review.outcome == ReviewOutcome.UPHELD
    assert review.decision_number.startswith("PS-") and \
        review.decision_number != voucher.decision_number
    twice = post_form(client, f"/reviews/{filed.id}",
                      {"outcome": "changed", "reasoning": "Toisin."})
    assert twice.status_code == 422 and _requests(db)[0].outcome == ReviewOutcome.UPHELD
    assert "Tämä oikaisuvaatimus on jo ratkaistu." in twice.get_data(as_text=True)
    letter = client.get(f"/reviews/{filed.id}/letter.pdf")
    assert letter.status_code == 200
    with pikepdf.open(io.BytesIO(letter.data)) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
    assert "vouchers/review_decided" in {m.template for m in db.execute(
        sa.select(OutboxMessage)).scalars()}
    auth.logout()
    auth.login(world.client_user.email, factories.PASSWORD)
    mine = client.get(f"/vouchers/mine/{voucher.id}").get_data(as_text=True)
    assert f'href="/reviews/{filed.id}/letter.pdf"' in mine
    assert client.get(f"/reviews/{filed.id}/letter.pdf").status_code == 200


@pytest.mark.postgres_only
def test_two_decisions_at_once_decide_once(app, db, world, database_url):
    voucher = _voucher(db, world)
    filed = services.file_request(db, voucher, channel=ReviewChannel.ONLINE,
                                  received_on=clock.today(), text="Tunnit eivät riitä.",
                                  actor=Actor.system("test"))
    db.commit()
    request_id, decider_id = filed.id, world.second_case_manager.id

    def work(session, i):
        from voucher.accounts.models import User
        review = session.get(ReviewRequest, request_id)
        services.decide_request(session, review, outcome=ReviewOutcome.UPHELD,
                                reasoning=f"Perustelu {i}.", decider=session.get(User, decider_id),
                                actor=Actor.system("test"))

    outcomes = run_in_parallel(database_url, work, 4, app=app)
    assert outcomes == {"ok": 1, "AlreadyDecided": 3}
    [review] = _requests(db)
    assert review.decided_at is not None


def test_the_client_s_export_holds_the_request_and_retention_removes_its_text(db, world):
    from voucher.privacy.export import gather_client_data
    from voucher.privacy.retention import pseudonymise_client

    voucher = _voucher(db, world)
    services.file_request(db, voucher, channel=ReviewChannel.ONLINE, received_on=clock.today(),
                          text="Tunnit eivät riitä äidilleni.", actor=Actor.system("test"))
    db.commit()
    data = gather_client_data(db, world.client, identity_code="010150-123A", authority="Kallio")
    assert [r["request"] for r in data["review_requests"]] == ["Tunnit eivät riitä äidilleni."]
    pseudonymise_client(db, world.client, actor=Actor.system("test"), cutoff=clock.today())
    db.commit()
    assert [r.request_text for r in _requests(db)] == [""]
