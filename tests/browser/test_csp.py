"""The Content-Security-Policy in a real browser. Every browser test records
violations (tests/browser/conftest.py), so the journeys check the login, the
voucher form, the signing pages with their WebCrypto script, the review queue
and the autopay pages; here: the recorder itself, the admin, and /api/docs/
with every request to another host refused (Swagger UI is served from the
drf-spectacular-sidecar package)."""

from urllib.parse import urlsplit

import pytest
from django.test import Client

from conftest import enrol_totp
from tests.browser.conftest import record_csp_violations

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_recorder_sees_an_inline_script_refused(portal, world):
    page = portal()
    page.goto("/accounts/login/")
    page.check_a11y()
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.x = 1'; "
                  "document.body.appendChild(s); }")
    page.evaluate("0")
    assert page.evaluate("window.x") is None  # refused
    assert any("script-src" in v for v in page.csp_violations), page.csp_violations
    page.csp_violations.clear()


def _offline_context(browser, live_server):  # noqa: ANN001, ANN202
    """A context that may reach the live server only: any other host is aborted (and listed)."""
    context = browser.new_context()
    context.set_default_timeout(20_000)
    outside: list[str] = []
    local = urlsplit(live_server.url).hostname

    def route(route):  # noqa: ANN001, ANN202
        if urlsplit(route.request.url).hostname in {local, "localhost", "127.0.0.1"}:
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    context.route("**/*", route)
    return context, outside, record_csp_violations(context)


def test_the_api_docs_show_the_operations_offline_under_the_csp(browser, live_server):
    context, outside, violations = _offline_context(browser, live_server)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/api/docs/")
        page.wait_for_selector(".opblock", state="visible")
        assert page.locator(".opblock").count() >= 40
        assert "Treasury online services API" in page.inner_text(".information-container")
        page.evaluate("0")
    finally:
        context.close()
    assert not outside, outside
    assert not violations, violations


def test_the_admin_works_under_the_csp(browser, live_server, world):
    user = world.users["tadmin"]
    enrol_totp(user)
    client = Client()
    client.force_login(user)
    context, outside, violations = _offline_context(browser, live_server)
    try:
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                              "url": live_server.url}])
        page = context.new_page()
        page.goto(live_server.url + "/admin/")
        assert page.locator("#content").count() == 1, page.url
        link = page.locator("#content a[href*='/admin/']").first
        link.click()
        page.wait_for_load_state("load")
        assert "/admin/" in page.url
        page.evaluate("0")
    finally:
        context.close()
    assert not outside, outside
    assert not violations, violations
