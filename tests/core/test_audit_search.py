"""Administrators find audit events by who acted, whom they concern, object and time."""

import datetime as dt

from tests import factories
from tests.conftest import post_form
from voucher import clock
from voucher.accounts.models import Role
from voucher.audit.services import Actor, record_event


def test_search_by_person_object_and_time(app, client, db, auth):
    admin = factories.user(db, role=Role.ADMIN, email="auditor@example.fi")
    actor = factories.user(db, role=Role.CASE_MANAGER, email="actor@example.fi")
    code = factories.identity_code()
    subject = factories.client(db, code=code)
    record_event(db, Actor.of_user(actor), "client.identity_code_viewed", "client", subject.id,
                 client_id=subject.id)
    db.commit()
    clock.freeze(clock.now() + dt.timedelta(days=3))
    record_event(db, Actor.system(), "voucher.expired", "voucher", 77)
    db.commit()
    auth.login(admin.email, factories.PASSWORD)

    by_actor = client.get("/admin/audit/?actor=actor@example.fi").get_data(as_text=True)
    assert "client.identity_code_viewed" in by_actor and "voucher.expired" not in by_actor
    posted = post_form(client, "/admin/audit/", {"person": code})
    assert posted.status_code == 303 and code not in posted.headers["Location"]
    assert posted.headers["Location"].endswith(f"person={subject.id}")
    by_code = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert "client.identity_code_viewed" in by_code and code not in by_code
    by_object = client.get("/admin/audit/?object_type=voucher&object_id=77").get_data(as_text=True)
    assert "voucher.expired" in by_object
    by_action = client.get("/admin/audit/?action=voucher").get_data(as_text=True)
    assert "voucher.expired" in by_action and "identity_code_viewed" not in by_action
    day = clock.today().isoformat()
    by_time = client.get(f"/admin/audit/?date_from={day}&date_to={day}").get_data(as_text=True)
    assert "voucher.expired" in by_time and "identity_code_viewed" not in by_time


def test_bad_date_is_explained(app, client, db, auth):
    factories.user(db, role=Role.ADMIN, email="a2@example.fi")
    db.commit()
    auth.login("a2@example.fi", factories.PASSWORD)
    response = client.get("/admin/audit/?date_from=yesterday")
    assert response.status_code == 422


def test_only_admins_search(app, client, db, auth):
    factories.user(db, role=Role.CASE_MANAGER, email="cm9@example.fi")
    db.commit()
    auth.login("cm9@example.fi", factories.PASSWORD)
    assert client.get("/admin/audit/").status_code == 403
