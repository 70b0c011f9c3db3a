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
