"""Every page in both languages, as every role that may see it: one language
per page and no raw codes (the rules: tests/language_check.py; the pages, the
roles and the data: tests/page_walk.py).

A page added later is walked without an edit here (its route and policy are
enough). The data are in every state a page shows: vouchers draft to paid,
returned, refused and payment_failed; autopay exceptions with their codes,
closed and retried; notifications; pending signing keys.
"""

from collections import defaultdict

import pytest
from django.conf import settings
from django.test import Client

from accounts import selectors
from conftest import enrol_totp
from tests import language_check, page_walk

pytestmark = pytest.mark.django_db


def _client(world, username: str | None, lang: str) -> Client:  # noqa: ANN001
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    if username is not None:
        user = world.users[username]
        if selectors.requires_mfa(user) and not user.authenticator_set.exists():
            enrol_totp(user)
        client.force_login(user)
    return client


@pytest.fixture
def walk(world):  # noqa: ANN001, ANN201
    return page_walk.build(world)


@pytest.mark.parametrize("lang", page_walk.LANGUAGES)
def test_every_page_reads_as_one_language_without_raw_codes(walk, lang):  # noqa: ANN001
    allowed = language_check.allowed_from_database()
    clients: dict[str | None, Client] = {}
    seen: set[tuple[str | None, str]] = set()
    problems: dict[str, set[str]] = defaultdict(set)
    checked = 0
    for visit in page_walk.visits(walk):
        if visit.username not in clients:
            clients[visit.username] = _client(walk.world, visit.username, lang)
        response = clients[visit.username].get(visit.url, follow=True)
        if response.status_code >= 500:
            problems[f"{visit.url}"].add(f"{response.status_code} as {visit.role}")
            continue
        final = response.request["PATH_INFO"]
        if (visit.username, final) in seen or "text/html" not in response.get("Content-Type", ""):
            continue
        seen.add((visit.username, final))
        if response.status_code != 200:
            continue
        checked += 1
        for finding in language_check.findings(response.content.decode(), lang, allowed):
            problems[final].add(finding)
    assert checked > 150, f"only {checked} pages walked: the walk itself is broken"
    report = [f"{url}: {f}" for url, found in sorted(problems.items()) for f in sorted(found)]
    assert report == [], f"{len(report)} finding(s) in {lang}:\n" + "\n".join(report)


def test_the_check_finds_each_kind_of_problem():
    allowed = language_check.Allowed({"Trường THPT Huỳnh Thúc Kháng"})

    def found(html: str, lang: str) -> list[str]:
        return language_check.findings(f'<html lang="{lang}"><body>{html}</body></html>', lang, allowed)

    assert found("<p>Đã thanh toán</p>", "en")  # Vietnamese on an English page
    assert found('<button title="Đánh dấu đã đọc">x</button>', "en")
    assert not found("<td>Trường THPT Huỳnh Thúc Kháng</td><option>Tiếng Việt</option>", "en")  # names, switcher
    assert found("<p>Successfully signed in as a_holder.</p>", "vi")  # allauth's English
    assert found("<li>This field is required.</li>", "vi")  # Django's English
    assert found("<td>Paid</td>", "vi")  # our catalogue's English
    assert not found("<td>Đã thanh toán</td><option>English</option><td>PDF</td>", "vi")
    assert found("<td>duplicate_period</td>", "en") and found("<td>pending_control</td>", "vi")
    assert found('<input type="submit" value="over_cap">', "vi")
    assert found("<td>paid</td>", "en")  # a choice's stored value in place of its label
    assert not found("<code>exception_code</code><td>hoa_don.pdf</td>", "en")
    assert found("<td>1,234,567 đ</td>", "vi") and found("<td>1.234.567 VND</td>", "en")
    assert not found("<td>1.234.567 đ</td>", "vi") and not found("<td>1,234,567 VND</td>", "en")
    assert found("<p>x</p>", "vi") == [] and language_check.findings('<html lang="vi"></html>', "en", allowed)


# --- what the walk of GET pages cannot see: messages after a POST, e-mails, the API ---------

PASSWORD = "demo-Password-2026"


def _anonymous(lang: str, ip: str) -> Client:
    client = Client(REMOTE_ADDR=ip)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    return client


def _no_findings(html: str, lang: str) -> list[str]:
    return language_check.findings(html, lang, language_check.allowed_from_database())


@pytest.mark.parametrize(
    ("lang", "wrong", "signed_in"),
    [
        ("vi", "Tên đăng nhập hoặc mật khẩu không đúng.", "Đã đăng nhập với tên"),
        ("en", "The username and/or password you specified are not correct.", "Successfully signed in as"),
    ],
)
def test_sign_in_messages_follow_the_page_language(world, lang, wrong, signed_in):  # noqa: ANN001
    """allauth has no Vietnamese: its errors and messages were English on Vietnamese pages."""
    client = _anonymous(lang, f"10.9.0.{len(lang)}")
    refused = client.post("/accounts/login/", {"login": "a_preparer", "password": "not-the-password"})
    assert refused.status_code == 200 and wrong in refused.content.decode()
    assert _no_findings(refused.content.decode(), lang) == []
    home = client.post("/accounts/login/", {"login": "a_preparer", "password": PASSWORD}, follow=True)
    assert signed_in in home.content.decode()
    assert _no_findings(home.content.decode(), lang) == []


def test_a_wrong_second_factor_code_at_sign_in_reads_vietnamese(world):
    enrol_totp(world.users["officer"])
    client = _anonymous("vi", "10.9.1.1")
    client.post("/accounts/login/", {"login": "officer", "password": PASSWORD})
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    page = wrong.content.decode()
    assert "Mã không đúng" in page and "Incorrect code" not in page
    assert _no_findings(page, "vi") == []


def test_the_password_reset_mail_is_in_the_language_of_the_request(world):
    from django.core import mail

    _anonymous("vi", "10.9.2.1").post("/accounts/password/reset/", {"email": "a_preparer@demo.treasury.example"})
    (message,) = mail.outbox
    assert "Thư đặt lại mật khẩu" in message.subject
    assert "đặt lại mật khẩu" in message.body and "You're receiving this email" not in message.body


def test_api_validation_errors_follow_the_requested_language(world):
    """DRF's Vietnamese has 20 of its ~125 texts: "A valid integer is required." stayed English."""
    from conftest import api_client_for

    client = api_client_for(world.users["a_preparer"])
    body = {"fiscal_year": "năm nay"}
    vi = client.post("/api/v1/vouchers", body, format="json", HTTP_ACCEPT_LANGUAGE="vi").json()
    en = client.post("/api/v1/vouchers", body, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert vi["fields"]["fiscal_year"] == ["Cần một số nguyên hợp lệ."], vi
    assert "Trường này là bắt buộc." in vi["fields"]["description"], vi
    assert en["fields"]["fiscal_year"] == ["A valid integer is required."], en


def test_an_autopay_exception_reads_in_the_readers_language(walk):  # noqa: ANN001
    """The run writes Vietnamese; the reason is kept as its key and values and rendered when read."""
    from autopay.models import SupplierInvoice
    from conftest import api_client_for
    from payments.models import Notification

    invoice = SupplierInvoice.objects.filter(status="exception", exception_code="over_cap").first() or (
        SupplierInvoice.objects.filter(status="exception", unit__isnull=False).first()
    )
    assert invoice.exception_params["key"]
    client = api_client_for(walk.world.users["b_holder"])
    rows = client.get("/api/v1/autopay/exceptions", HTTP_ACCEPT_LANGUAGE="en").json()
    rows = rows.get("results", rows) if isinstance(rows, dict) else rows
    reasons = [r["exception_reason"] for r in rows]
    assert reasons and all(not language_check.VIETNAMESE_LETTERS.search(r) for r in reasons), reasons
    notice = Notification.objects.filter(user=walk.world.users["b_holder"], data__reason__key__isnull=False).first()
    assert notice is not None and language_check.VIETNAMESE_LETTERS.search(notice.body)  # stored: Vietnamese
    page = _client(walk.world, "b_holder", "en").get("/notifications/").content.decode()
    assert "was not paid automatically" in page
