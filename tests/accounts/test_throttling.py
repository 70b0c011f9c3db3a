"""Login throttling slows guessers down without letting anyone lock others out, and reset
e-mails are limited per account and per address."""

import datetime as dt

import pytest

from tests import factories
from tests.conftest import post_form
from voucher import clock
from voucher.accounts import services
from voucher.audit.services import Actor

OFFICE = "198.51.100.7"  # one NAT address in front of a whole office


def _login(app, email, password, address):
    browser = app.test_client()
    return post_form(browser, "/login", {"email": email, "password": password},
                     environ_base={"REMOTE_ADDR": address})


def test_one_guesser_behind_a_shared_address_does_not_lock_the_others_out(app, db):
    factories.user(db, email="regular@example.fi")
    factories.user(db, email="newcomer@example.fi")
    db.commit()
    assert _login(app, "regular@example.fi", factories.PASSWORD, OFFICE).status_code == 303
    for n in range(40):  # more than VOUCHER_LOGIN_MAX_FAILURES_PER_IP
        _login(app, f"guess{n}@example.fi", "password123456", OFFICE)

    # Someone who has logged in from here before gets in at once.
    assert _login(app, "regular@example.fi", factories.PASSWORD, OFFICE).status_code == 303
    # Someone new waits a bounded time at most.
    assert _login(app, "newcomer@example.fi", factories.PASSWORD, OFFICE).status_code == 429
    clock.freeze(clock.now() + dt.timedelta(seconds=app.config["LOGIN_MAX_DELAY_SECONDS"] + 1))
    assert _login(app, "newcomer@example.fi", factories.PASSWORD, OFFICE).status_code == 303


def test_wrong_passwords_for_a_named_account_do_not_lock_its_owner_out(app, db):
    factories.user(db, email="named@example.fi")
    db.commit()
    home = "203.0.113.5"
    assert _login(app, "named@example.fi", factories.PASSWORD, home).status_code == 303
    for n in range(12):  # from many addresses, more than VOUCHER_LOGIN_MAX_FAILURES
        _login(app, "named@example.fi", "not the password", f"192.0.2.{n + 1}")
    assert _login(app, "named@example.fi", factories.PASSWORD, home).status_code == 303
    # An address that has never logged in to it waits, at most LOGIN_MAX_DELAY_SECONDS.
    assert _login(app, "named@example.fi", factories.PASSWORD, "192.0.2.200").status_code == 429
    clock.freeze(clock.now() + dt.timedelta(seconds=61))
    assert _login(app, "named@example.fi", factories.PASSWORD, "192.0.2.200").status_code == 303


def test_the_pause_of_one_guesser_grows_with_each_failure(app, db):
    factories.user(db, email="target2@example.fi")
    db.commit()
    assert _login(app, "target2@example.fi", factories.PASSWORD, "203.0.113.9").status_code \
        == 303
    guesser = "192.0.2.77"
    for _ in range(3):
        assert _login(app, "target2@example.fi", "nope nope nope", guesser).status_code == 422
    pauses = []
    for _ in range(3):
        waited = 0
        while _login(app, "target2@example.fi", "nope nope nope", guesser).status_code == 429:
            clock.freeze(clock.now() + dt.timedelta(seconds=10))
            waited += 10
        pauses.append(waited)
    assert pauses[0] >= 30 and pauses[1] > pauses[0] and pauses[2] > pauses[1]
    # Meanwhile its owner, from where they usually log in, gets in at once.
    assert _login(app, "target2@example.fi", factories.PASSWORD, "203.0.113.9").status_code \
        == 303


def test_pauses_are_bounded():
    from voucher.accounts.throttling import pause_seconds

    assert pause_seconds(2, free=3, base=30, cap=900) == 0
    assert pause_seconds(3, free=3, base=30, cap=900) == 30
    assert pause_seconds(4, free=3, base=30, cap=900) == 60
    assert pause_seconds(10_000, free=3, base=30, cap=900) == 900


def _ask_reset(app, email, address="192.0.2.10"):
    return post_form(app.test_client(), "/password-reset", {"email": email},
                     environ_base={"REMOTE_ADDR": address})


def test_reset_emails_are_limited_per_account_in_the_same_words(app, db, outbox):
    factories.user(db, email="flooded@example.fi")
    db.commit()
    answers = [_ask_reset(app, "flooded@example.fi", f"192.0.2.{n}") for n in range(1, 6)]
    assert {a.status_code for a in answers} == {200}
    assert len({a.get_data(as_text=True).split("<main")[1] for a in answers}) == 1
    assert len(outbox("flooded@example.fi")) == 3  # per hour
    unknown = _ask_reset(app, "nobody-here@example.fi")
    assert unknown.get_data(as_text=True).replace("nobody-here", "flooded").split("<main")[1] \
        == answers[-1].get_data(as_text=True).split("<main")[1]
    clock.freeze(clock.now() + dt.timedelta(minutes=61))
    _ask_reset(app, "flooded@example.fi")
    assert len(outbox("flooded@example.fi")) == 4


def test_reset_emails_are_limited_per_address(app, db, outbox):
    for n in range(12):
        factories.user(db, email=f"many{n}@example.fi")
    db.commit()
    for n in range(12):
        assert _ask_reset(app, f"many{n}@example.fi", "192.0.2.99").status_code == 200
    assert len(outbox()) == 10  # VOUCHER_LINK_EMAILS_PER_ADDRESS_PER_HOUR
    _ask_reset(app, "many11@example.fi", "192.0.2.100")
    assert len(outbox()) == 11


def test_invitations_are_limited_per_account(app, db, outbox):
    user = factories.user(db, email="invited@example.fi", password=None)
    db.commit()
    actor = Actor.system()
    for _ in range(3):
        services.invite_user(db, user, days=14, actor=actor)
    with pytest.raises(services.TooManyLinks):
        services.invite_user(db, user, days=14, actor=actor)
    assert len(outbox("invited@example.fi")) == 3
