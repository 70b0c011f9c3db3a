"""Static files: the address names the content's digest, and that address is cached for a year
(immutable); any other address of the file is revalidated."""

import hashlib
import re
from pathlib import Path

from voucher import static_files

STYLESHEET = "css/app.css"


def _digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_pages_link_the_style_sheets_by_their_content(app, client):
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'href="/static/css/app\.css\?v=([0-9a-f]{12})"', page)
    assert found, "the style sheet's address has no digest"
    assert found.group(1) == _digest_of(Path(app.static_folder) / STYLESHEET)


def test_the_current_address_is_cached_for_a_year_and_others_are_revalidated(app, client):
    digest = static_files.fingerprint(app, STYLESHEET)
    current = client.get(f"/static/{STYLESHEET}?v={digest}")
    assert current.status_code == 200
    assert current.cache_control.max_age == static_files.ONE_YEAR
    assert current.cache_control.immutable and current.cache_control.public

    for address in (f"/static/{STYLESHEET}", f"/static/{STYLESHEET}?v=000000000000"):
        other = client.get(address)
        assert other.status_code == 200
        assert other.cache_control.no_cache and not other.cache_control.immutable
        assert other.cache_control.max_age is None
        assert other.get_data() == current.get_data()


def test_a_logged_in_user_caches_them_too(app, client, demo, auth):
    # Pages with personal data are never stored; a static file holds none and stays cached.
    auth.login("admin@example.fi")
    assert client.get("/").headers["Cache-Control"] == "no-store"
    digest = static_files.fingerprint(app, STYLESHEET)
    answer = client.get(f"/static/{STYLESHEET}?v={digest}")
    assert answer.cache_control.immutable
    assert "no-store" not in answer.headers["Cache-Control"]


def test_an_edited_file_gets_a_new_address(app, tmp_path):
    app.static_folder = str(tmp_path)
    sheet = tmp_path / "site.css"
    sheet.write_text("body { color: black; }")
    first = static_files.fingerprint(app, "site.css")
    sheet.write_text("body { color: navy; }  ")
    second = static_files.fingerprint(app, "site.css")
    assert first != second == _digest_of(sheet)


def test_a_missing_or_outside_file_has_no_digest_and_is_not_found(app, client):
    assert static_files.fingerprint(app, "css/no-such.css") is None
    assert static_files.fingerprint(app, "../__init__.py") is None
    assert static_files.fingerprint(app, "css") is None
    with app.test_request_context():
        from flask import url_for

        assert url_for("static", filename="css/no-such.css") == "/static/css/no-such.css"
    assert client.get("/static/css/no-such.css?v=abc").status_code == 404
    assert client.get("/static/../voucher/__init__.py").status_code == 404
