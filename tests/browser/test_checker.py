"""The page checks themselves find what they are for: a check that passes everything would
let every journey pass."""

import pytest

from tests.browser.conftest import axe_check, check_reflow

BROKEN = """<!doctype html><html lang="fi"><head><title>Rikki</title></head><body><main>
<h1>Rikki</h1><form><input type="text" name="unnamed"></form><img src="data:,">
<div style="width: 2000px">leveä</div></main></body></html>"""


def test_axe_finds_violations_on_a_page_loaded_by_navigation(page):
    page.route("**/checker-self-test", lambda route: route.fulfill(
        status=200, content_type="text/html", body=BROKEN))
    page.goto("/checker-self-test")
    assert page.evaluate("typeof window.axe") == "object"  # put there by the init script
    with pytest.raises(AssertionError) as found:
        axe_check(page)
    assert "label" in str(found.value) and "image-alt" in str(found.value)
    page.set_viewport_size({"width": 320, "height": 900})
    with pytest.raises(AssertionError, match="scrolls sideways at 320 px"):
        check_reflow(page, 320)
