"""Every page in Chromium, as every role, in both languages: axe-core finds no
serious or critical violation, and the page reads as one language with no raw
code (the same rules as tests/test_page_languages.py: tests/language_check.py,
applied here to the DOM after the page's scripts ran).

The pages, roles and data come from tests/page_walk.py (the URL patterns and
the access policy), so a new page is walked without an edit here. One browser
context per role and language, signed in by a session cookie (the sign-in form
itself is tested in test_login.py).
"""

import time
from collections import defaultdict

import pytest
from django.conf import settings
from django.test import Client

from accounts import selectors
from conftest import enrol_totp
from tests import language_check, page_walk
from tests.browser.conftest import axe_violations, format_violations

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _session_cookie(world, username: str) -> str:  # noqa: ANN001
    user = world.users[username]
    if selectors.requires_mfa(user) and not user.authenticator_set.exists():
        enrol_totp(user)
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _context(browser, live_server, world, username: str | None, lang: str):  # noqa: ANN001, ANN202
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="vi-VN" if lang == "vi" else "en-GB",
        timezone_id="Asia/Ho_Chi_Minh",
    )
    context.set_default_timeout(15_000)
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url}]
    if username is not None:
        cookies.append(
            {"name": settings.SESSION_COOKIE_NAME, "value": _session_cookie(world, username), "url": live_server.url}
        )
    context.add_cookies(cookies)
    return context


def _html_pages(world, username, lang, visits, problems, role) -> list[str]:  # noqa: ANN001
    """The visits that are HTML pages (not files, redirects to a page already
    listed, or POST-only routes), as their final paths: asked first of Django's
    test client, which costs a fraction of a browser load."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    if username is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = _session_cookie(world, username)
    pages: list[str] = []
    for visit in visits:
        response = client.get(visit.url, follow=True)
        if response.status_code >= 500:
            problems.append(f"{visit.url} as {role}: {response.status_code}")
            continue
        final = response.request["PATH_INFO"]
        document = response.status_code == 200 and "text/html" in response.get("Content-Type", "")
        # htmx fragments (the badge, a preflight, a progress bar) are checked inside their page.
        if document and b"<html" in response.content[:500] and final not in pages:
            pages.append(final)
    return pages


@pytest.mark.parametrize("lang", page_walk.LANGUAGES)
def test_every_page_in_the_browser_is_accessible_and_in_one_language(browser, live_server, world, lang):  # noqa: ANN001
    walk = page_walk.build(world)
    allowed = language_check.allowed_from_database()
    visits = defaultdict(list)
    # Each route once per role (its first object), the voucher page in every status:
    # the test-client walk reads every object's page; this one adds the DOM and axe.
    routes_seen: set[tuple[str, str]] = set()
    for visit in page_walk.visits(walk):
        if visit.route != "voucher-detail" and (visit.role, visit.route) in routes_seen:
            continue
        routes_seen.add((visit.role, visit.route))
        visits[(visit.role, visit.username)].append(visit)

    started = time.monotonic()
    problems: list[str] = []
    checked = 0
    for (role, username), role_visits in visits.items():
        pages = _html_pages(world, username, lang, role_visits, problems, role)
        context = _context(browser, live_server, world, username, lang)
        page = context.new_page()
        try:
            for path in pages:
                response = page.goto(live_server.url + path)
                page.wait_for_load_state("load")
                final = page.url.removeprefix(live_server.url)
                if response is None or response.status != 200:
                    status = response.status if response else "no response"
                    problems.append(f"{path} as {role}: {status} in the browser")
                    continue
                checked += 1
                violations = axe_violations(page)
                if violations:
                    problems.append(f"as {role}: " + format_violations(final, violations))
                problems += [
                    f"{final} as {role}: {finding}"
                    for finding in language_check.findings(page.content(), lang, allowed)
                ]
        finally:
            context.close()
    elapsed = time.monotonic() - started
    assert checked > 100, f"only {checked} pages walked in {lang}: the walk itself is broken"
    assert problems == [], f"{len(problems)} problem(s) on {checked} pages in {lang} ({elapsed:.0f} s):\n" + "\n".join(
        problems
    )
