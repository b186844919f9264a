"""The headers every response carries: a Content-Security-Policy that allows
scripts and styles from the portal only (Django's ContentSecurityPolicyMiddleware,
SECURE_CSP), `Cache-Control: private, no-store` on whatever a signed-in user or
a token holder gets (never on public static files), and API docs that reference
no other host (Swagger UI from drf-spectacular-sidecar). The browser side of the
policy is tests/browser (every browser test records violations; test_csp.py)."""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client, override_settings

from conftest import enrol_totp

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Rendered to PDF on the server (WeasyPrint), never served as a page.
NOT_PAGES = {"payments/pdf", "monitoring/pdf"}


def _signed_in(world, username: str) -> Client:  # noqa: ANN001
    user = world.users[username]
    if not user.authenticator_set.exists():
        enrol_totp(user)
    client = Client()
    client.force_login(user)
    return client


def _policy(response) -> dict[str, list[str]]:  # noqa: ANN001
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def _assert_strict(response) -> None:  # noqa: ANN001
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"], policy
    assert policy["style-src"] == ["'self'"], policy
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("username", "path"),
    [
        (None, "/accounts/login/"),
        (None, "/api/docs/"),
        (None, "/api/docs/?script="),
        (None, "/api/schema/"),
        (None, "/no-such-page/"),
        (None, "/api/v1/no-such-thing"),
        ("a_preparer", "/"),
        ("a_preparer", "/vouchers/"),
        ("a_preparer", "/vouchers/new/"),
        ("officer", "/treasury/queue/"),
        ("a_holder", "/autopay/"),
        ("tadmin", "/admin/"),
        ("a_holder", "/api/v1/me"),
    ],
)
def test_every_kind_of_response_carries_the_policy(world, username, path):
    client = _signed_in(world, username) if username else Client()
    response = client.get(path)
    assert response.status_code in {200, 404}, (path, response.status_code)
    _assert_strict(response)


def test_an_attachment_download_keeps_its_own_sandbox_policy():
    from vouchers import apis

    source = Path(apis.__file__).read_text()
    assert "response[\"Content-Security-Policy\"] = \"default-src 'none'; sandbox\"" in source


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src") and names.get("type") != "application/json":
            self.problems.append("inline <script>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name}= handler")
            if name == "style":
                self.problems.append("style attribute")
            if name.startswith("hx-on"):
                self.problems.append(f"{name} (htmx eval)")
            if name in {"href", "src", "action", "formaction"} and value:
                self.urls.append(value)
                if value.strip().lower().startswith("javascript:"):
                    self.problems.append(f"javascript: URL in {name}")
        if tag == "style":
            self.problems.append("inline <style>")


def test_no_template_needs_an_inline_script_or_style():
    """What the policy would refuse, found in the templates before a browser does."""
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        relative = path.relative_to(TEMPLATES).as_posix()
        if any(relative.startswith(prefix) for prefix in NOT_PAGES):
            continue
        source = re.sub(r"{% comment %}.*?{% endcomment %}", "", path.read_text(), flags=re.S)
        source = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", "x", source, flags=re.S)
        collector = _Collector()
        collector.feed(source)
        problems += [f"{relative}: {p}" for p in collector.problems]
    assert not problems, "\n".join(problems)


def test_the_checker_finds_what_the_policy_refuses():
    collector = _Collector()
    collector.feed('<script>x()</script><a onclick="x()" href="javascript:x()"><span style="width:1%"></span>'
                   '<div hx-on:click="x()"></div><style>p{}</style>')
    assert len(collector.problems) == 6, collector.problems


def test_htmx_runs_without_eval_and_without_its_inline_indicator_styles(world):
    html = _signed_in(world, "a_preparer").get("/").content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html)
    assert config, "no htmx-config meta"
    import json

    values = json.loads(config.group(1))
    assert values["includeIndicatorStyles"] is False and values["allowEval"] is False


# --- Cache-Control -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/vouchers/", "/account/", "/api/v1/me", "/no-such-page/"])
def test_a_signed_in_user_gets_private_no_store(world, path):
    response = _signed_in(world, "a_holder").get(path)
    cache = response["Cache-Control"]
    assert "no-store" in cache and "private" in cache, (path, cache)


def test_a_token_holder_gets_private_no_store(world, api):
    response = api("a_holder").get("/api/v1/me")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_a_refused_token_is_not_cached_either(world):
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION="Bearer wrong")
    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


def test_public_static_files_stay_cacheable(world):
    """WhiteNoise answers /static/ before the middleware: no no-store, even signed in."""
    with override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True):
        client = _signed_in(world, "a_holder")
        response = client.get("/static/css/portal.css")
        assert response.status_code == 200
        assert "no-store" not in response.get("Cache-Control", "")


# --- the API docs, offline --------------------------------------------------------


def test_the_api_docs_reference_no_other_host():
    client = Client()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    collector = _Collector()
    collector.feed(page.content.decode())
    assert collector.urls, "no URL on the page"
    foreign = [u for u in collector.urls if urlsplit(u).netloc not in {"", "testserver"}]
    assert not foreign, foreign
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in u for u in collector.urls), collector.urls
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert not re.search(r"https?://(?!testserver)", script.content.decode())
