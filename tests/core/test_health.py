def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
    assert "Set-Cookie" not in response.headers


def test_readyz_checks_migrations(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"


def test_healthz_answers_when_the_database_is_down(app_config):
    from voucher import create_app

    app = create_app({**app_config,
                      "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "unreachable"
    assert app.test_client().get("/readyz").status_code == 503


def test_a_logged_in_page_answers_503_not_500_when_the_database_goes_away(app, db, client,
                                                                          auth):
    import sqlalchemy as sa
    from sqlalchemy.orm import sessionmaker

    from tests import factories
    from voucher.db import make_engine

    factories.user(db, email="staff@example.fi")
    db.commit()
    assert auth.login("staff@example.fi", factories.PASSWORD).status_code == 303
    working = app.extensions["voucher.db"]
    gone = make_engine("postgresql://nobody@127.0.0.1:1/none", poolclass=sa.pool.NullPool)
    app.extensions["voucher.db"] = sessionmaker(gone)
    try:
        page = client.get("/account/password")
        api = client.get("/api/v1/service-types")
    finally:
        app.extensions["voucher.db"] = working
    # Loading the logged-in user fails: the page is drawn as for an anonymous visitor.
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "tilapäisesti" in page.get_data(as_text=True)
    assert api.status_code == 503 and api.mimetype == "application/problem+json"
