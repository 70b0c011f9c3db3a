"""The demo loads, twice without duplicates, and no demo role meets a 500 anywhere."""

import re

import pytest
import sqlalchemy as sa

from voucher.accounts.models import User
from voucher.demo import demo_users, load_demo
from voucher.municipalities.models import Municipality


def _counts(db):
    return {table: db.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608
            for table in ("municipalities", "users", "providers", "clients", "service_types",
                          "provider_services", "provider_prices", "service_type_rates")}


@pytest.mark.slow
def test_demo_is_idempotent(app, db):
    first = load_demo(db)
    db.commit()
    counts = _counts(db)
    load_demo(db)
    db.commit()
    assert _counts(db) == counts
    assert any("demo-password" in line for line in first)


def test_demo_has_the_kallio_municipalities_with_official_numbers(demo):
    rows = demo.execute(sa.select(Municipality.code, Municipality.name_fi, Municipality.name_sv)
                        .order_by(Municipality.code)).all()
    assert rows == [("009", "Alavieska", "Alavieska"), ("535", "Nivala", "Nivala"),
                    ("746", "Sievi", "Sievi"), ("977", "Ylivieska", "Ylivieska")]


def test_demo_users_exist_with_their_roles(demo):
    roles = {email: role.value for email, role in demo.execute(sa.select(User.email, User.role))}
    assert roles.items() >= {
        "admin@example.fi": "admin", "casemanager@example.fi": "case_manager",
        "casemanager2@example.fi": "case_manager", "provider@example.fi": "provider",
        "client@example.fi": "client"}.items()


def test_demo_users_command_lists_every_demo_user_from_the_database(app, demo):
    """``demo users`` (what scripts/first_run_check logs in with): e-mail, name, role."""
    result = app.test_cli_runner().invoke(args=["demo", "users"])
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.output.splitlines()]
    assert [row[0] for row in rows] == [email for email, _role in demo_users()]
    assert ["admin@example.fi", "Anna Admin", "administrator"] in rows
    assert len(rows) == 7


def test_demo_users_command_fails_before_the_demo_is_loaded(app, db):
    result = app.test_cli_runner().invoke(args=["demo", "users"])
    assert result.exit_code == 1
    assert "Not in the database: admin@example.fi" in result.output


@pytest.mark.slow
def test_no_page_linked_from_a_demo_role_answers_500(app, client, demo, auth):
    """Follow every same-site link (GET) from each role's pages, two levels deep."""
    for email in ("admin@example.fi", "casemanager@example.fi", "casemanager2@example.fi",
                  "provider@example.fi", "client@example.fi", None):
        if email:
            assert auth.login(email).status_code == 303
        seen, frontier = set(), ["/"]
        for _depth in range(2):
            next_frontier = []
            for path in frontier:
                if path in seen:
                    continue
                seen.add(path)
                response = client.get(path)
                assert response.status_code < 500, f"{email} got {response.status_code} at {path}"
                if response.mimetype == "text/html":
                    for link in re.findall(r'href="(/[^"#]*)"', response.get_data(as_text=True)):
                        if not link.startswith(("/static/", "/language/")):
                            next_frontier.append(link.replace("&amp;", "&"))
            frontier = next_frontier
        if email:
            auth.logout()


def test_the_demo_is_never_loaded_in_production(app, db):
    app.config["VOUCHER_ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert "not loaded in production" in result.output
    assert db.execute(sa.select(sa.func.count()).select_from(User)).scalar() == 0
