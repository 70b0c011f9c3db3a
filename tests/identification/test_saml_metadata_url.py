"""IdP metadata from an address: fetched into the instance folder when the app starts (never
during a request) and again by ``flask identification refresh-metadata``; an address that does
not answer leaves strong identification out of service (503 page), not broken."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from voucher import create_app


@pytest.fixture
def metadata_server(_idp_and_settings):
    body = Path(_idp_and_settings[1]["SAML_IDP_METADATA"]).read_bytes()
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            hits.append(self.path)
            self.send_response(200 if self.path == "/idp.xml" else 404)
            self.end_headers()
            self.wfile.write(body if self.path == "/idp.xml" else b"")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()


def _app(app_config, address):
    application = create_app({**app_config, "SAML_IDP_METADATA": address})
    return application


def test_metadata_from_an_address_is_fetched_at_start_and_used(app_config, metadata_server):
    base, hits = metadata_server
    application = _app(app_config, f"{base}/idp.xml")
    try:
        assert hits == ["/idp.xml"]
        assert (Path(application.instance_path) / "saml-idp-metadata.xml").exists()
        answer = application.test_client().get("/auth/saml/login")
        assert answer.status_code == 303 and answer.headers["Location"].startswith(
            "http://idp.test/sso")
        assert hits == ["/idp.xml"]  # nothing fetched during the request
        with application.app_context():  # as `flask` gives every command
            result = application.test_cli_runner().invoke(args=["identification",
                                                                "refresh-metadata"])
        assert result.exit_code == 0 and hits == ["/idp.xml", "/idp.xml"]
    finally:
        application.extensions["voucher.engine"].dispose()


def test_an_address_that_fails_leaves_strong_identification_out_of_service(
        app_config, metadata_server):
    base, _hits = metadata_server
    application = _app(app_config, f"{base}/missing.xml")
    try:
        answer = application.test_client().get("/auth/saml/login")
        assert answer.status_code == 503
        assert "ei ole juuri nyt käytettävissä" in answer.get_data(as_text=True)
        with application.app_context():  # as `flask` gives every command
            result = application.test_cli_runner().invoke(args=["identification",
                                                                "refresh-metadata"])
        assert result.exit_code == 1 and "could not fetch" in result.output
    finally:
        application.extensions["voucher.engine"].dispose()
