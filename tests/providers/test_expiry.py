"""The expiry watch: a reminder 30 days before the insurance or a document expires, a notice
and the administrators' flag after; each once per expiry date, however often cron runs it."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.providers.conftest import complete_application, login
from voucher import clock
from voucher.mail.models import OutboxMessage
from voucher.providers.expiry import check_expiry
from voucher.providers.models import Provider, ProviderExpiryNotice
from voucher.providers.supervision import flagged_providers

ENDS = dt.date(2026, 12, 20)


@pytest.fixture
def insured(db, app, catalogue):
    provider, user = complete_application(db,
                                          prices={"CLEANING": 3300}, submit=True)
    provider.insurance_valid_until = ENDS
    for document in provider.documents:
        document.valid_until = None
    db.commit()
    return provider, user


def _subjects(db, user):
    return db.execute(sa.select(OutboxMessage.subject).where(
        OutboxMessage.to_address == user.email,
        OutboxMessage.template.like("providers/expiry%")).order_by(OutboxMessage.id)).scalars().all()


def _run(app):
    result = app.test_cli_runner().invoke(args=["providers", "check-expiry"])
    assert result.exit_code == 0, result.output
    return result.output


def test_nothing_is_sent_earlier_than_30_days_before(db, app, insured):
    clock.freeze(ENDS - dt.timedelta(days=31))
    assert "reminders sent 0, expiry notices sent 0" in _run(app)


def test_a_reminder_30_days_before_once_however_often_cron_runs(db, app, insured):
    _provider, user = insured
    clock.freeze(ENDS - dt.timedelta(days=30))
    assert "reminders sent 1, expiry notices sent 0" in _run(app)
    clock.freeze(ENDS - dt.timedelta(days=29))
    assert "reminders sent 0, expiry notices sent 0" in _run(app)
    db.rollback()
    assert _subjects(db, user) == ["Vastuuvakuutus vanhenee 20.12.2026"]


def test_after_expiry_a_notice_goes_out_and_the_administrators_see_the_flag(
        client, db, app, auth, admin, insured):
    provider, user = insured
    clock.freeze(ENDS + dt.timedelta(days=1))
    assert "reminders sent 0, expiry notices sent 1" in _run(app)
    assert "expiry notices sent 0" in _run(app)
    db.rollback()
    assert _subjects(db, user) == ["Vastuuvakuutus on vanhentunut"]
    [(flagged, items)] = flagged_providers(db)
    assert flagged.id == provider.id and items[0].valid_until == ENDS
    login(auth, admin)
    queue = client.get("/admin/providers").get_data(as_text=True)
    assert "Vanhentuneet vakuutukset tai asiakirjat" in queue and "20.12.2026" in queue
    page = client.get(f"/admin/providers/{provider.id}").get_data(as_text=True)
    assert "Vanhentunut" in page and "voimassa 20.12.2026 asti" in page


def test_a_renewed_date_gets_notices_of_its_own_and_clears_the_flag(db, app, insured):
    provider, _user = insured
    clock.freeze(ENDS - dt.timedelta(days=10))
    check_expiry(db)
    provider.insurance_valid_until = dt.date(2027, 12, 20)
    db.flush()
    assert flagged_providers(db) == []
    clock.freeze(dt.date(2027, 11, 25))
    report = check_expiry(db)
    assert (report.reminders, report.expired) == (1, 0)
    assert db.execute(sa.select(sa.func.count()).select_from(ProviderExpiryNotice)).scalar() == 2


def test_documents_with_a_validity_are_watched_too(db, app, insured):
    provider, user = insured
    document = provider.documents[0]
    document.valid_until = dt.date(2026, 12, 1)
    db.commit()
    report = check_expiry(db)  # 24.11.2026: the document ends in 7 days, the insurance in 26
    assert (report.reminders, report.expired) == (2, 0)
    assert "Omavalvontasuunnitelma vanhenee 1.12.2026" in _subjects(db, user)


def test_drafts_and_revoked_providers_are_not_watched(db, app, insured):
    provider, _user = insured
    db.get(Provider, provider.id).status = "revoked"
    db.commit()
    clock.freeze(ENDS + dt.timedelta(days=1))
    assert check_expiry(db).expired == 0


@pytest.mark.postgres_only
def test_two_watches_running_at_once_send_each_notice_once(db, app, database_url, insured):
    from tests.concurrency import run_in_parallel

    _provider, user = insured
    clock.freeze(ENDS - dt.timedelta(days=5))
    outcomes = run_in_parallel(database_url, lambda session, _i: check_expiry(session), 4,
                               app=app)
    assert outcomes == {"ok": 4}
    db.rollback()
    assert _subjects(db, user) == ["Vastuuvakuutus vanhenee 20.12.2026"]
    assert db.execute(sa.select(sa.func.count()).select_from(ProviderExpiryNotice)).scalar() == 1
