"""The audit trail is append-only and hash-chained; any change is found."""

import pytest
import sqlalchemy as sa

from voucher.audit.models import AuditEvent
from voucher.audit.services import GENESIS_HASH, Actor, record_event, verify_chain


def _record(db, n):
    for i in range(n):
        record_event(db, Actor.system("test"), "thing.done", "thing", i, note=f"#{i}")
        db.commit()


def test_events_chain_to_each_other(db):
    _record(db, 3)
    events = db.execute(sa.select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert verify_chain(db).ok and verify_chain(db).checked == 3


def test_rolled_back_events_are_not_written(db):
    record_event(db, Actor.system(), "thing.done", "thing", 1)
    db.rollback()
    db.commit()
    assert db.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar() == 0


def test_changed_event_is_named_by_the_check(app, db):
    _record(db, 4)
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    target = db.execute(sa.select(AuditEvent.id).order_by(AuditEvent.id).offset(2)).scalar()
    db.execute(sa.update(AuditEvent).where(AuditEvent.id == target)
               .values(data={"note": "forged"}))
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    db.commit()
    report = verify_chain(db)
    assert (report.ok, report.broken_at) == (False, target)

    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {target}" in result.output


@pytest.mark.postgres_only
def test_database_refuses_to_change_or_delete_audit_events(db):
    _record(db, 1)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.execute(sa.update(AuditEvent).values(action="x"))
    db.rollback()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.execute(sa.delete(AuditEvent))
    db.rollback()


def test_a_rolled_back_savepoint_drops_only_its_own_events(db):
    """Events queued before a savepoint outlive the savepoint's rollback; those queued inside
    it (and in savepoints within it) do not."""
    record_event(db, Actor.system("test"), "thing.before", "thing", 1)
    with pytest.raises(ZeroDivisionError), db.begin_nested():
        record_event(db, Actor.system("test"), "thing.inside", "thing", 2)
        with db.begin_nested():
            record_event(db, Actor.system("test"), "thing.deeper", "thing", 3)
        raise ZeroDivisionError
    savepoint = db.begin_nested()
    record_event(db, Actor.system("test"), "thing.inside_too", "thing", 4)
    savepoint.rollback()
    record_event(db, Actor.system("test"), "thing.after", "thing", 5)
    db.commit()
    actions = db.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert actions == ["thing.before", "thing.after"]
    assert verify_chain(db).ok


def test_events_of_a_released_savepoint_follow_its_parent(db):
    """A released savepoint's events are written with the transaction; when a savepoint
    around it rolls back, they go with it."""
    with db.begin_nested():
        record_event(db, Actor.system("test"), "thing.kept", "thing", 1)
    with pytest.raises(ZeroDivisionError), db.begin_nested():
        with db.begin_nested():
            record_event(db, Actor.system("test"), "thing.released_then_undone", "thing", 2)
        raise ZeroDivisionError
    db.commit()
    actions = db.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert actions == ["thing.kept"]


def test_a_free_text_is_kept_beside_its_event_and_a_changed_one_is_named(db):
    from voucher.audit.models import AuditText
    from voucher.audit.services import FreeText, readable_data

    record_event(db, Actor.system(), "voucher.cancelled", "voucher", 7,
                 reason=FreeText("Moved to Oulu"), before="issued")
    db.commit()
    event = db.execute(sa.select(AuditEvent)).scalar_one()
    assert set(event.data) == {"reason", "before"}
    assert "Oulu" not in str(event.data) and event.data["before"] == "issued"
    assert readable_data(db, [event])[event.id] == {"reason": "Moved to Oulu",
                                                     "before": "issued"}
    assert verify_chain(db).ok
    db.execute(sa.update(AuditText).values(text="Moved to Kemi"))
    db.commit()
    report = verify_chain(db)
    assert (report.broken_at, report.reason) == (event.id, "a free text does not match its "
                                                           "digest")


def test_a_cancellation_reason_reaches_the_trail_as_free_text(db):
    """The services mark what people type: a voucher's cancellation reason is not hashed in
    the clear (it could not be removed at retention)."""
    from tests import factories
    from voucher.vouchers.lifecycle import cancel_voucher

    voucher = factories.voucher(db)
    db.commit()
    cancel_voucher(db, voucher, reason="The client moved to Oulu", actor=Actor.system())
    db.commit()
    event = db.execute(sa.select(AuditEvent).where(
        AuditEvent.action == "voucher.cancelled")).scalar_one()
    assert "Oulu" not in str(event.data)
