"""Reflow (WCAG 1.4.10) and no clipping on every role's pages: each demo role logs in and
visits every link of its main navigation and the pages its work starts from; each page gets
``check_page`` (axe, and no sideways scrolling at 320, 768 and 1280 CSS px). Every page is
checked even when an earlier one fails, and the test names all the failures at once.

Each role's home page (and the client's vouchers and provider choice, the provider's service
events, a register page) is also photographed at 320 and 1280 px into
``test-results/screenshots/`` (``VOUCHER_SCREENSHOTS`` moves it; git-ignored), for a person to
look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.browser.conftest import check_page, login
from voucher.accounts.models import User
from voucher.providers.models import Provider, ProviderStatus
from voucher.vouchers.models import Voucher

SCREENSHOTS = Path(os.environ.get(
    "VOUCHER_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-results" / "screenshots"))


def _screenshot(page, name: str) -> None:
    """The current page, whole, at 320 and 1280 CSS px."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (320, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


def _nav_links(page) -> list[str]:
    """The paths of the main navigation's links, in order."""
    return page.locator(".site-nav a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")


def _switch_language(page, code: str) -> None:
    """Choose the language with the switcher (fi is the default); lands on the front page."""
    if code != "fi":
        page.goto(f"/language/{code}?next=/")
        check_page(page)


def _first_link(page, pattern: str) -> str | None:
    """The first link in ``main`` whose path matches the regular expression."""
    return page.locator("main a[href]").evaluate_all(
        "(links, pattern) => (links.map(a => a.getAttribute('href'))"
        "    .find(h => new RegExp(pattern).test(h)) || null)", pattern)


def _check_all(page, paths, more=(), photos=None) -> list[str]:
    """check_page on each path (and on the first link matching each of ``more`` found in
    ``main`` on those pages), photographing those named in ``photos``; the failures, one line
    each."""
    failures, seen, todo = [], set(), [p for p in paths if p]
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        page.goto(path)
        try:
            check_page(page)
        except AssertionError as error:
            failures.append(f"{path}: " + " ".join(str(error).split("\n")[:3])[:600])
        if path in (photos or {}):
            _screenshot(page, photos[path])
        for selector in more:
            found = _first_link(page, selector)
            if found and found not in seen:
                todo.append(found)
    return failures


def _approved_provider_id(demo) -> int:
    return demo.execute(sa.select(Provider.id).where(
        Provider.status == ProviderStatus.APPROVED).order_by(Provider.id)).scalars().first()


def _client_voucher_ids(demo, email: str) -> list[int]:
    client_id = demo.execute(sa.select(User.client_id).where(User.email == email)).scalar_one()
    return list(demo.execute(sa.select(Voucher.id).where(Voucher.client_id == client_id)
                             .order_by(Voucher.id)).scalars())


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_public_pages_reflow(page, demo, language):
    provider_id = _approved_provider_id(demo)
    demo.rollback()
    page.goto("/")
    check_page(page)
    _switch_language(page, language)
    if language == "fi":
        _screenshot(page, "anonymous-home")
    paths = [*_nav_links(page), f"/providers/{provider_id}", "/login", "/accessibility"]
    failures = _check_all(page, paths, photos={f"/providers/{provider_id}": "register-provider"})
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("email, name, more, language", [
    ("client@example.fi", "client", (r"^/vouchers/mine/\d+$",), "fi"),
    ("client@example.fi", "client-sv", (r"^/vouchers/mine/\d+$",), "sv"),
    ("casemanager@example.fi", "case-manager", (r"^/clients/\d+$", r"^/vouchers/\d+$",
                                                r"^/vouchers/post-room$"), "fi"),
    ("provider@example.fi", "provider", (r"^/provider/invoices/\d+$", r"^/vouchers/provider/\d+$",
                                         r"^/provider/service-events/new/"), "fi"),
    ("admin@example.fi", "admin", (r"^/admin/providers/\d+$", r"^/admin/invoices/\d+$"), "fi"),
])
def test_role_pages_reflow(page, demo, email, name, more, language):
    """Every link of the role's main navigation, and a first detail page linked from them
    (the client's also in Swedish, whose words are the longest)."""
    vouchers = _client_voucher_ids(demo, email) if name.startswith("client") else []
    demo.rollback()
    login(page, email)
    check_page(page)
    _switch_language(page, language)
    _screenshot(page, f"{name}-home")
    # The client's provider choice: the page that was wider than a laptop.
    paths = [*_nav_links(page), *(f"/vouchers/{v}/provider" for v in vouchers[:2])]
    photos = {"/vouchers/mine": f"{name}-vouchers",
              "/provider/service-events/": f"{name}-service-events"}
    if vouchers:
        photos[paths[-1]] = f"{name}-provider-choice"
    failures = _check_all(page, paths, more, photos)
    assert failures == [], "\n".join(failures)
