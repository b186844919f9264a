"""Browser tests: Playwright driving Debian's Chromium against pytest-django's
live_server, with an axe-core check of every page a test visits.

Fixtures:
- `browser`: one Chromium per worker (skipped when Chromium is missing, a
  failure in CI).
- `portal`: a factory of `PortalPage`s, one browser context (own cookies and
  IndexedDB) per person: `page = portal()`; `page.goto("/account/")`.
  Every document the page loads must be checked with `page.check_a11y()` before
  the next navigation and before the test ends; the fixture fails otherwise.
- Every page also records the Content-Security-Policy violations of its
  documents (a `securitypolicyviolation` listener installed before any script
  of the page runs): `page.check_a11y()` and the end of the test fail on any,
  so every browser test checks the policy too (inline script or style, an
  eval, a resource from another host).
- `sign_in(page, username, totp_secret=None)`: the real sign-in form, then the
  TOTP code computed here.

Every test in this folder is marked `browser` and runs in the xdist group
"browser" (one worker: one Chromium at a time on a small machine).
"""

import functools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in this thread; Django's ORM (used by
# the tests around the browser) must not refuse to run next to it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

HERE = Path(__file__).parent
AXE = HERE / "vendor" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BLOCKING_IMPACTS = {"serious", "critical"}
CSP_RECORDER = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__portalCspViolation(
    e.effectiveDirective + " refused " + (e.blockedURI || "inline") + " on " + e.documentURI
    + (e.sample ? " (" + e.sample + ")" : "")
  );
});
"""


def record_csp_violations(context: Any) -> list[str]:
    """Every CSP violation of the pages of `context`, as sentences."""
    violations: list[str] = []
    context.expose_binding("__portalCspViolation", lambda _source, text: violations.append(text))
    context.add_init_script(script=CSP_RECORDER)
    return violations
PASSWORD = settings.DEMO_PASSWORD


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + ": CI runs the browser tests", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8") + "\n;void 0;"


def axe_violations(page: Any) -> list[dict]:
    """Run axe-core (vendored) on the current document; serious/critical violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated by the test driver, not added as a <script>: the page's
        # Content-Security-Policy refuses inline scripts (and that is tested).
        page.evaluate(_axe_source())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + (n.failureSummary || ""))
            }));
        }"""
    )
    return [v for v in result if v["impact"] in BLOCKING_IMPACTS]


def format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"axe-core: {len(violations)} serious/critical violation(s) on {url}"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']}")
        lines.extend(f"    {node}" for node in v["nodes"])
    return "\n".join(lines)


class PortalPage:
    """A Playwright page on the live server that knows which documents it has
    loaded and which of them were checked with axe."""

    def __init__(self, page: Any, base_url: str, csp_violations: list[str] | None = None) -> None:
        self.page = page
        self.base_url = base_url
        self.csp_violations = csp_violations if csp_violations is not None else []
        self.loads: list[str] = []
        self.checked: set[int] = set()
        page.on("framenavigated", self._on_navigated)

    def _on_navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame and not frame.url.startswith(("about:", "data:")):
            self.loads.append(frame.url)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.page, name)

    def url_for(self, path: str) -> str:
        return path if path.startswith("http") else self.base_url + path

    def goto(self, path: str, **kwargs: Any) -> Any:
        self._require_checked()
        return self.page.goto(self.url_for(path), **kwargs)

    def path(self) -> str:
        return self.page.url.removeprefix(self.base_url)

    def check_a11y(self) -> None:
        """axe-core on the current document: no serious or critical violation."""
        self.page.wait_for_load_state("load")
        violations = axe_violations(self.page)
        self.checked.add(len(self.loads))
        assert not violations, format_violations(self.page.url, violations)
        self.check_csp()

    def check_csp(self) -> None:
        """No Content-Security-Policy violation on any document of this page so far."""
        if not self.page.is_closed():
            self.page.evaluate("0")  # lets the violations reported so far reach Python
        assert not self.csp_violations, "Content-Security-Policy violations:\n" + "\n".join(self.csp_violations)

    def unchecked(self) -> list[str]:
        return [url for i, url in enumerate(self.loads, start=1) if i not in self.checked]

    def _require_checked(self) -> None:
        missing = self.unchecked()
        assert not missing, f"pages visited without an accessibility check (call page.check_a11y()): {missing}"


@pytest.fixture
def portal(browser: Any, live_server: Any) -> Iterator[Callable[..., PortalPage]]:
    contexts: list[Any] = []
    pages: list[PortalPage] = []

    def new_page(*, width: int = 1280, height: int = 900, locale: str = "vi-VN") -> PortalPage:
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale=locale, timezone_id="Asia/Ho_Chi_Minh"
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        violations = record_csp_violations(context)
        page = PortalPage(context.new_page(), live_server.url, violations)
        pages.append(page)
        return page

    yield new_page
    try:
        for page in pages:
            page._require_checked()
            page.check_csp()
    finally:
        for context in contexts:
            context.close()


_USED_TOTP_STEPS: set[tuple[str, int]] = set()


def fresh_totp_code(secret: str) -> str:
    """A code the portal accepts now and has not seen yet. allauth refuses a
    code used once already; with MFA_TOTP_TOLERANCE = 1 the previous, current
    and next 30-second steps are all valid, so signing the same person in again
    within a step takes another one (and a code computed as the step turns
    over stays valid)."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    now = int(time.time()) // 30
    for step in (now, now + 1, now - 1):
        if (secret, step) not in _USED_TOTP_STEPS:
            _USED_TOTP_STEPS.add((secret, step))
            return format_hotp_value(hotp_value(secret, step))
    time.sleep(30 - time.time() % 30 + 0.5)
    return fresh_totp_code(secret)


def sign_in(page: PortalPage, username: str, totp_secret: str | None = None, *, password: str = PASSWORD) -> None:
    """The real sign-in: the login form, then (if enrolled) the TOTP code computed here."""
    page.goto("/accounts/login/")
    page.check_a11y()
    page.fill("#id_login", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    page.wait_for_load_state("load")
    if totp_secret is not None:
        assert "/accounts/2fa/authenticate/" in page.url, page.url
        page.check_a11y()
        page.fill("#id_code", fresh_totp_code(totp_secret))
        with page.expect_navigation():
            page.click("main form button.btn-primary")
        page.wait_for_load_state("load")


@pytest.fixture
def signed_in() -> Callable[..., None]:
    return sign_in
