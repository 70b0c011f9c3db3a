"""Logs are one JSON object per line with the request id, and never carry URL secrets."""

import json
import logging

from tests import factories
from tests.conftest import post_form


def test_json_access_log_has_request_id_and_route_pattern(app_config, db, capfd):
    from voucher import create_app

    app = create_app({**app_config, "LOG_JSON": True})
    client = app.test_client()
    factories.user(db, email="logged@example.fi")
    db.commit()
    post_form(client, "/password-reset", {"email": "logged@example.fi"})
    client.get("/password-reset/secret-token-value", headers={"X-Request-Id": "abc123"})
    logging.getLogger("voucher").handlers[0].flush()
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines()
             if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "voucher.access"]
    assert access, "no access log lines"
    last = access[-1]
    assert last["request_id"] == "abc123"
    assert last["route"] == "/password-reset/<token>"
    assert {"method", "status", "duration_ms", "time", "level"} <= last.keys()
    text = "\n".join(json.dumps(line) for line in lines)
    assert "secret-token-value" not in text and "logged@example.fi" not in text
