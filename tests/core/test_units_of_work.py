"""One transaction idiom: a refused action changes nothing whatever the response looks like;
writes that must outlive a refusal go through a unit of their own; external work runs only
after the commit, outside any transaction."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import flash, redirect

from voucher import db as voucher_db
from voucher.access import public
from voucher.errors import DomainError
from voucher.municipalities.models import Municipality


def _municipalities(db) -> list[str]:
    db.rollback()
    return db.execute(sa.select(Municipality.code).order_by(Municipality.code)).scalars().all()


def _add(session, code: str) -> None:
    session.add(Municipality(code=code, name_fi=code, name_sv=code))
    session.flush()


@pytest.fixture
def routes(app):
    """Views that write, then refuse in the ways real views do."""
    seen: dict[str, list] = {"work": []}

    @app.post("/_test/refused-then-redirect")
    @public
    def refused_then_redirect():
        _add(voucher_db.session(), "901")
        try:
            raise DomainError("refused")
        except DomainError as exc:
            flash(str(exc), "error")
        return redirect("/", code=303)

    @app.post("/_test/kept-despite-refusal")
    @public
    def kept_despite_refusal():
        _add(voucher_db.session(), "902")
        voucher_db.keep_despite_refusal(lambda unit: _add(unit, "903"))
        DomainError("refused")
        return redirect("/", code=303)

    @app.post("/_test/kept-despite-crash")
    @public
    def kept_despite_crash():
        voucher_db.keep_despite_refusal(lambda unit: _add(unit, "904"))
        raise RuntimeError("boom")

    @app.post("/_test/work-after-commit")
    @public
    def work_after_commit():
        session = voucher_db.session()
        _add(session, "905")

        def work():
            # Outside the request's transaction: its row is committed and visible to others.
            with voucher_db.command_session() as unit:
                seen["work"].append(unit.execute(sa.select(Municipality.code).where(
                    Municipality.code == "905")).scalar())

        voucher_db.after_commit(session, work)
        try:
            with session.begin_nested():  # e.g. a unique constraint that lost a race
                voucher_db.after_commit(session, lambda: seen["work"].append("savepoint"))
                raise LookupError("rolled back to the savepoint")
        except LookupError:
            pass
        return redirect("/", code=303)

    @app.post("/_test/work-of-a-refused-request")
    @public
    def work_of_a_refused_request():
        session = voucher_db.session()
        _add(session, "906")
        voucher_db.after_commit(session, lambda: seen["work"].append("refused"))
        DomainError("refused")
        return redirect("/", code=303)

    app.config["WTF_CSRF_ENABLED"] = False
    return seen


def test_a_refused_action_is_rolled_back_although_the_view_redirects(client, db, routes):
    response = client.post("/_test/refused-then-redirect")
    assert response.status_code == 303
    assert _municipalities(db) == []


def test_writes_kept_despite_a_refusal_are_committed_on_their_own(client, db, routes):
    assert client.post("/_test/kept-despite-refusal").status_code == 303
    assert _municipalities(db) == ["903"]
    assert client.post("/_test/kept-despite-crash").status_code == 500
    assert _municipalities(db) == ["903", "904"]


def test_work_after_commit_sees_the_committed_rows_and_skips_rolled_back_savepoints(
        client, db, routes):
    assert client.post("/_test/work-after-commit").status_code == 303
    assert routes["work"] == ["905"]
    assert _municipalities(db) == ["905"]


def test_work_after_commit_never_runs_for_a_refused_request(client, db, routes):
    assert client.post("/_test/work-of-a-refused-request").status_code == 303
    assert routes["work"] == []
    assert _municipalities(db) == []
