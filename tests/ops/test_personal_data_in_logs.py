"""No personal identity code and no one-time token reaches the logs: a whole scenario is run
with every logger at DEBUG and its output is searched for the demo clients' codes (and one
typed in) and for the token of a password-reset link that was opened and used."""

import json
import logging

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_PASSWORD, csrf_token_from, dispose_engines, post_form
from voucher.clients.identity import decrypt_identity_code
from voucher.clients.models import Client
from voucher.demo.people import DEMO_CLIENTS

NEW_CODE = "010170-960F"


@pytest.fixture
def logged_app(app_config, demo):
    from voucher import create_app

    app = create_app({**app_config, "LOG_JSON": True})
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    yield app
    root.setLevel(level)
    dispose_engines(app)


def _login(client, email):
    page = client.get("/login")
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD,
                                           "csrf_token": csrf_token_from(page)})
    assert response.status_code == 303


def _scenario(app, demo_code: str):
    staff = app.test_client()
    _login(staff, "casemanager@example.fi")
    found = post_form(staff, "/clients/", {"q": demo_code}, form_page="/clients/")
    assert found.status_code == 303
    detail = found.location
    staff.get(detail)
    post_form(staff, f"{detail}/identity-code", {}, form_page=detail)
    # A duplicate and a mistyped code: both errors go through the form, not the log.
    for code in (demo_code, demo_code[:-1] + "X", NEW_CODE):
        post_form(staff, "/clients/new", {
            "identity_code": code, "first_name": "Lokitesti", "last_name": "Asiakas",
            "municipality": "", "language": "fi", "email": "lokitesti@example.fi"})
    staff.get(f"/clients/?q={demo_code}")

    admin = app.test_client()
    _login(admin, "admin@example.fi")
    searched = post_form(admin, "/admin/audit/", {"person": demo_code}, form_page="/admin/audit/")
    admin.get(searched.location)

    citizen = app.test_client()
    _login(citizen, "client@example.fi")
    for path in ("/", "/vouchers/mine", "/my/services/"):
        citizen.get(path)

    # A one-time link: asked for, opened, its form sent with a mismatch (an error page).
    forgetful = app.test_client()
    post_form(forgetful, "/password-reset", {"email": "client@example.fi"},
              form_page="/password-reset")
    link = _newest_one_time_link(app)
    page = forgetful.get(link)
    assert page.status_code == 200
    post_form(forgetful, link, {"new_password": "uusi-salasana-1",
                                "confirm_password": "toinen-salasana-2"}, form_page=link)
    return link.rsplit("/", 1)[1]


def _newest_one_time_link(app) -> str:
    import re

    from voucher.mail.models import OutboxMessage

    with app.app_context():
        from voucher import db

        body = db.session().execute(sa.select(OutboxMessage.body_text).order_by(
            OutboxMessage.id.desc()).limit(1)).scalar_one()
    return re.search(r"https?://[^/\s]+(/password-reset/[^\s]+)", body).group(1)


def test_identity_codes_never_reach_the_logs(logged_app, demo, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    demo_code = DEMO_CLIENTS[0]["identity_code"]
    token = _scenario(logged_app, demo_code)

    output = capfd.readouterr()
    text = "\n".join([output.out, output.err, *(r.getMessage() for r in caplog.records),
                      *(json.dumps(r.__dict__, default=str) for r in caplog.records)])
    assert "voucher.access" in text, "the scenario logged nothing: the check would prove nothing"
    codes = {decrypt_identity_code(c) for c in demo.execute(
        sa.select(Client.identity_code_encrypted)).scalars()} | {NEW_CODE}
    assert demo_code in codes and len(codes) > 10
    leaked = sorted(code for code in codes if code in text or code.replace("-", "") in text)
    assert leaked == [], f"identity codes in the log output: {leaked}"
    assert len(token) > 20 and token not in text, "a one-time token reached the log output"


def test_an_unexpected_error_on_a_one_time_link_logs_its_route_not_its_token(
        app, client, caplog, monkeypatch):
    from voucher.accounts import services

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "find_valid_token", broken)
    token = "Tk" + "x" * 40
    with caplog.at_level(logging.ERROR):
        assert client.get(f"/password-reset/{token}").status_code == 500
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "unhandled error on GET /password-reset/<token>" in logged
    assert token not in logged


def test_database_errors_never_carry_the_statements_values(app, db):
    """Neither the statement's parameters (hidden by the engine) nor the row values that
    PostgreSQL repeats in its DETAIL line reach a logged traceback."""
    from voucher.accounts.models import User
    from voucher.db import make_engine
    from voucher.logs import JsonFormatter, TextFormatter

    secret = "salainen-arvo-" + "z" * 20
    engine = make_engine(app.config["DATABASE_URL"], poolclass=sa.pool.NullPool)
    try:
        with pytest.raises(sa.exc.DBAPIError) as raised, engine.begin() as connection:
            connection.execute(sa.insert(User.__table__).values(email=secret))  # NOT NULLs
    finally:
        engine.dispose()
    assert "[SQL parameters hidden" in str(raised.value)
    record = logging.LogRecord("voucher", logging.ERROR, __file__, 1, "failed", None,
                               (raised.type, raised.value, raised.tb))
    for formatter in (JsonFormatter(), TextFormatter()):
        assert secret not in formatter.format(record)
