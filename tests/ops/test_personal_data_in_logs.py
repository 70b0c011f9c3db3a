"""No personal identity code reaches the logs: a whole scenario is run with every logger at
DEBUG and its output is searched for the demo clients' codes (and one typed in)."""

import json
import logging

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_PASSWORD, csrf_token_from, post_form
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


def test_identity_codes_never_reach_the_logs(logged_app, demo, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    demo_code = DEMO_CLIENTS[0]["identity_code"]
    _scenario(logged_app, demo_code)

    output = capfd.readouterr()
    text = "\n".join([output.out, output.err, *(r.getMessage() for r in caplog.records),
                      *(json.dumps(r.__dict__, default=str) for r in caplog.records)])
    assert "voucher.access" in text, "the scenario logged nothing: the check would prove nothing"
    codes = {decrypt_identity_code(c) for c in demo.execute(
        sa.select(Client.identity_code_encrypted)).scalars()} | {NEW_CODE}
    assert demo_code in codes and len(codes) > 10
    leaked = sorted(code for code in codes if code in text or code.replace("-", "") in text)
    assert leaked == [], f"identity codes in the log output: {leaked}"
