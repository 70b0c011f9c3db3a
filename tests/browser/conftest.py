"""Browser tests: Playwright driving Debian's Chromium against the app served on loopback.

Every page a test visits must get the axe-core check (``axe_check``): the ``page`` fixture
records each navigation and fails the test if one was never checked.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-default-apps",
]


def _chromium_path() -> str | None:
    """Debian's chromium-headless-shell when it is there: the same Blink and V8 without the
    desktop browser around them (Playwright's own choice for headless Chromium); it took a
    fifth less CPU for the browser tests than the full ``chromium`` (309 against 396 CPU-s)."""
    return os.environ.get("VOUCHER_CHROMIUM") or next(
        (path for name in ("chromium-headless-shell", "chromium")
         for path in (shutil.which(name), f"/usr/bin/{name}") if path and Path(path).exists()),
        None)


def pytest_collection_modifyitems(config, items):
    """Mark the browser tests; with VOUCHER_BROWSER_BACKEND set (scripts/test sets it to
    postgresql when both runs happen), they run only in that backend's run: a browser journey
    tests the pages, and twice costs minutes."""
    only_on = os.environ.get("VOUCHER_BROWSER_BACKEND")
    backend = os.environ.get("VOUCHER_TEST_DATABASE", "sqlite")
    elsewhere = []
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if only_on and only_on != backend:
                elsewhere.append(item)
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if item not in elsewhere]


@pytest.fixture(scope="session")
def browser():
    executable = _chromium_path()
    if executable is None:
        message = ("Chromium is not installed (scripts/test installs Debian's "
                   "chromium-headless-shell when it can)")
        if os.environ.get("VOUCHER_REQUIRE_BROWSER") == "1":
            pytest.fail(message + "; VOUCHER_REQUIRE_BROWSER=1 forbids skipping")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_url(app):
    """The app served by a real (threaded) HTTP server on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


#: Pages answered with these statuses are the app's deliberate answers (a form with errors is
#: 422), which Chromium also reports on the console; 404s and 5xx are real problems.
_EXPECTED_STATUSES = ("400", "403", "409", "410", "422", "429")


def _expected_answer(text: str) -> bool:
    return text.startswith("Failed to load resource: the server responded with a status of") \
        and text.split("status of ")[1][:3] in _EXPECTED_STATUSES


class VisitLog:
    """Navigations of a page and whether each got the accessibility check."""

    def __init__(self):
        self.visits: list[dict] = []

    def navigated(self, url: str) -> None:
        self.visits.append({"url": url, "checked": False})

    def mark_checked(self) -> None:
        if self.visits:
            self.visits[-1]["checked"] = True

    def unchecked(self) -> list[str]:
        return [v["url"] for v in self.visits if not v["checked"]]


@pytest.fixture
def page(browser, live_url, request):
    context = browser.new_context(base_url=live_url, locale="fi-FI")
    context.set_default_timeout(10_000)
    # axe-core in every document from the start: sent to the browser once per test, rather
    # than half a megabyte of script with each check.
    context.add_init_script(script=AXE_SOURCE)
    page = context.new_page()
    log = VisitLog()
    problems: list[str] = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and log.navigated(frame.url))
    page.on("console", lambda msg: msg.type == "error" and not _expected_answer(msg.text)
            and problems.append(msg.text))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.visit_log = log
    yield page
    try:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            artifacts = Path(os.environ.get("VOUCHER_TEST_ARTIFACTS",
                                            "/tmp/voucher-test-artifacts"))
            page.screenshot(path=str(artifacts / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()
    if not (getattr(request.node, "rep_call", None) and request.node.rep_call.failed):
        assert log.unchecked() == [], f"pages visited without the axe check: {log.unchecked()}"
        assert problems == [], f"browser console errors (CSP violations?): {problems}"


def axe_check(page) -> None:
    """Run axe-core on the current page; fail on any WCAG 2.1 A/AA violation."""
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    violations = page.evaluate(
        """async (tags) => {
            // Only violations are read: the other result types keep one node each (axe's
            // advice for speed), which changes no violation found.
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                    resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)
            }));
        }""",
        WCAG_TAGS,
    )
    page.visit_log.mark_checked()
    assert violations == [], f"axe-core violations on {page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in violations)


#: The narrowest phone (WCAG 1.4.10 Reflow: 320 CSS px), a tablet and a laptop.
WIDTHS = (320, 768, 1280)


def check_page(page) -> None:
    """The axe check and reflow at each of WIDTHS: no sideways scrolling of the page, no
    control cut off at its right edge, no text clipped by a box that hides its overflow, every
    cell of a stacked table (``hds-table--stacked``) named by its data-label (but an action
    cell, ``row-action``, whose button names itself), and a wide table scrolls only inside a
    labelled region that the keyboard can reach. Leaves the page at the widest width."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        axe_check(page)
        check_reflow(page, width)


def check_reflow(page, width: int) -> None:
    """The reflow part of ``check_page`` at the current viewport (``width`` CSS px wide)."""
    found = page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const scrolls = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
        const inScroller = e => { for (let p = e.parentElement; p; p = p.parentElement) {
            if (scrolls(p)) return true; } return false; };
        const controls = 'button, a, input, select, textarea, h1, h2';
        const cut = [...document.querySelectorAll(controls)]
            .filter(e => e.getClientRects().length && !inScroller(e)
                         && e.getBoundingClientRect().right > width + 1)
            .map(e => e.outerHTML.slice(0, 80));
        const unlabelled = [...document.querySelectorAll('body *')]
            .filter(e => scrolls(e) && e.scrollWidth > e.clientWidth + 1
                         && !(e.tabIndex >= 0 && e.getAttribute('role') === 'region'
                              && e.getAttribute('aria-label')))
            .map(e => e.outerHTML.slice(0, 80));
        const hides = e => ['hidden', 'clip'].includes(getComputedStyle(e).overflowX);
        // A field scrolls its own text (a long e-mail address); that is not clipping.
        const clipped = [...document.querySelectorAll('main *')]
            .filter(e => !e.matches('input, textarea, select')
                         && hides(e) && e.clientWidth > 1 && e.getClientRects().length
                         && e.scrollWidth > e.clientWidth + 1)
            .map(e => e.outerHTML.slice(0, 80));
        const over = e => e.getClientRects().length && !inScroller(e)
                          && e.getBoundingClientRect().right > width + 1;
        const wide = [...document.querySelectorAll('body *')]
            .filter(e => over(e) && ![...e.children].some(over))
            .slice(0, 5).map(e => e.outerHTML.slice(0, 80));
        const nameless = [...document.querySelectorAll(
                '.hds-table--stacked tbody td:not([data-label]):not([colspan])'
                + ':not(.empty):not(.row-action)')]
            .map(e => e.outerHTML.slice(0, 80));
        return {scroll: document.documentElement.scrollWidth, width, cut, unlabelled,
                clipped, wide, nameless};
    }""")
    assert found["scroll"] <= found["width"], (
        f"{page.url} scrolls sideways at {width} px ({found['scroll']} px wide), widest "
        f"there: {found['wide']}")
    assert found["cut"] == [], f"{page.url} cuts off at {width} px: {found['cut']}"
    assert found["unlabelled"] == [], (
        f"{page.url} at {width} px scrolls inside a region without tabindex, role=region "
        f"and aria-label: {found['unlabelled']}")
    assert found["nameless"] == [], (
        f"{page.url}: cells of a stacked table without data-label: {found['nameless']}")
    assert found["clipped"] == [], f"{page.url} clips text at {width} px: {found['clipped']}"


def login(page, email: str, password: str = "demo-password") -> None:  # noqa: S107
    """Log in through the form (the login page gets the axe check)."""
    page.goto("/login")
    axe_check(page)
    page.get_by_label("Sähköpostiosoite").fill(email)
    page.get_by_label("Salasana", exact=True).fill(password)
    page.get_by_role("button", name="Kirjaudu sisään").click()
    page.wait_for_load_state("load")
