"""The year end through the API and the pages: the office's administrator sets
the dates, copies the new year's budget lines and closes the year (a check
page first, then the progress); other offices' year ends are 404; units roll
their autopay authorizations over; a voucher of a closed year is refused with
`fiscal_year_closed`."""

import re
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from conftest import enrol_totp
from payments.models import FiscalYearClose, FiscalYearCloseState
from payments.selectors import yearend as selectors
from payments.services import yearend
from payments.tests.kit import seed_money
from payments.tests.test_yearend import YearKit
from vouchers.models import VoucherEvent, VoucherStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    seed_money(world)
    return YearKit(world)


@pytest.fixture
def login(world):  # noqa: ANN001, ANN201
    clients: dict[str, Client] = {}

    def as_user(username: str) -> Client:
        if username not in clients:
            user = world.users[username]
            if not user.authenticator_set.exists():
                enrol_totp(user)
            client = Client()
            client.force_login(user)
            clients[username] = client
        return clients[username]

    return as_user


@pytest.fixture
def in_adjustment(kit, monkeypatch):  # noqa: ANN001, ANN201
    """Today is 20 January after the kit's fiscal year: the adjustment period."""
    today = date(kit.fiscal_year + 1, 1, 20)
    monkeypatch.setattr(selectors, "_today", lambda: today)
    return today


def text(response) -> str:  # noqa: ANN001
    return re.sub(r"\s+", " ", response.content.decode())


def test_api_sets_up_closes_and_reports_progress(kit, api, in_adjustment, django_capture_on_commit_callbacks):
    submitted = kit.submitted(1_000_000)
    in_control = kit.in_control(amount=2_000_000)
    body = {"office": kit.unit.office.code, "year": kit.fiscal_year}
    response = api("officer").post("/api/v1/fiscal-year-closes", body, format="json")
    assert response.status_code == 403
    response = api("tadmin").post("/api/v1/fiscal-year-closes", body, format="json")
    assert response.status_code == 201, response.json()
    close = response.json()
    assert close["cut_off"] == f"{kit.fiscal_year}-12-31" and close["state"] == "open"
    assert close["phase"] == "adjustment"
    assert api("tadmin_b").get(f"/api/v1/fiscal-year-closes/{close['id']}").status_code == 404
    assert api("tadmin_b").post("/api/v1/fiscal-year-closes", body, format="json").status_code == 404
    listed = api("officer").get("/api/v1/fiscal-year-closes", {"year": kit.fiscal_year}).json()["results"]
    assert [c["id"] for c in listed] == [close["id"]]
    rows = api("officer").get(f"/api/v1/fiscal-year-closes/{close['id']}/open-vouchers").json()["results"]
    assert {r["number"]: r["refusable"] for r in rows} == {submitted.number: True, in_control.number: True}
    response = api("tadmin").post(f"/api/v1/fiscal-year-closes/{close['id']}/copy-budget-lines", format="json")
    assert response.status_code == 200 and response.json()["created"] > 0
    with django_capture_on_commit_callbacks(execute=True):
        response = api("tadmin").post(
            f"/api/v1/fiscal-year-closes/{close['id']}/close",
            {"refuse": [in_control.pk], "note": "Không kịp bổ sung hồ sơ"}, format="json",
        )
    assert response.status_code == 202, response.json()
    done = api("tadmin").get(f"/api/v1/fiscal-year-closes/{close['id']}").json()
    assert (done["state"], done["carried"], done["refused"]) == ("closed", 1, 1)
    assert done["progress"] == 100
    assert done["phase"] == "closed"
    # A voucher of the closed year: 409 fiscal_year_closed, with a sentence.
    response = api("a_preparer").post("/api/v1/vouchers", {
        "unit": kit.unit.code, "procedure": "C2-02a/NS", "mode": "payment", "fiscal_year": kit.fiscal_year,
        "description": "Chi cuối năm", "payee": {"name": "Công ty A", "account_number": "0123456789",
                                                 "bank_code": "VCB"},
        "lines": [{"budget_line": kit.line("7000").pk, "amount": 100_000, "description": "x"}],
    }, format="json")
    assert response.status_code == 409 and response.json()["code"] == "fiscal_year_closed"
    assert response.json()["detail"]


def test_the_administrator_closes_the_year_on_the_pages(kit, login, in_adjustment,
                                                        django_capture_on_commit_callbacks):
    voucher = kit.pending()
    refused = kit.submitted(700_000)
    client = login("tadmin")
    response = client.post(reverse("yearend-closes"), {
        "office": kit.unit.office.code, "year": kit.fiscal_year, "cut_off": "", "adjustment_until": "",
    })
    close = FiscalYearClose.objects.get(office=kit.unit.office, year=kit.fiscal_year)
    assert response.status_code == 302 and response["Location"] == reverse("yearend-close", args=[close.pk])
    page = text(client.get(reverse("yearend-close", args=[close.pk])))
    assert voucher.number in page and refused.number in page and 'name="refuse"' in page
    # The check page: nothing happens on GET.
    url = reverse("yearend-close-confirm", args=[close.pk])
    page = text(client.get(url, {"refuse": [refused.pk], "note": "Quá hạn bổ sung"}))
    assert "Xác nhận khóa sổ" in page and refused.number in page and "Quá hạn bổ sung" in page
    close.refresh_from_db()
    assert close.state == FiscalYearCloseState.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"refuse": [refused.pk], "note": "Quá hạn bổ sung", "confirm": "1"})
    assert response.status_code == 302
    close.refresh_from_db()
    assert close.state == FiscalYearCloseState.CLOSED and (close.carried, close.refused) == (1, 1)
    refused.refresh_from_db()
    assert refused.status == VoucherStatus.REFUSED
    assert VoucherEvent.objects.filter(voucher=voucher, action="year_end_carry").exists()
    page = text(client.get(reverse("yearend-close", args=[close.pk])))
    assert "Đã khóa sổ" in page and 'name="refuse"' not in page
    # The unit reads why, in its timeline.
    page = text(login("a_preparer").get(reverse("voucher-detail", args=[refused.pk])))
    assert "Khóa sổ năm: từ chối" in page and "Quá hạn bổ sung" in page


def test_a_refusal_without_a_reason_is_shown_on_the_check_page(kit, login, in_adjustment):
    refused = kit.submitted(700_000)
    close = yearend.fiscal_year_close_set(actor=kit.user("tadmin"), office=kit.unit.office, year=kit.fiscal_year)
    response = login("tadmin").post(reverse("yearend-close-confirm", args=[close.pk]),
                                    {"refuse": [refused.pk], "note": "", "confirm": "1"})
    assert response.status_code == 400 and "Cần ghi lý do" in text(response)
    close.refresh_from_db()
    assert close.state == FiscalYearCloseState.OPEN


def test_the_close_button_waits_for_the_end_of_the_year(kit, login):
    close = yearend.fiscal_year_close_set(actor=kit.user("tadmin"), office=kit.unit.office, year=kit.fiscal_year)
    page = text(login("tadmin").get(reverse("yearend-close", args=[close.pk])))
    assert "Khóa sổ được sau khi hết năm ngân sách" in page and 'name="refuse"' not in page
    page = text(login("officer").get(reverse("yearend-close", args=[close.pk])))
    assert "Tạo dòng dự toán năm" not in page  # only administrators act
    assert login("tadmin_b").get(reverse("yearend-close", args=[close.pk])).status_code == 404


def test_the_pages_in_english(kit, in_adjustment):
    from tests.language_check import allowed_from_database, findings
    from tests.test_i18n import _english, _page

    close = yearend.fiscal_year_close_set(actor=kit.user("tadmin"), office=kit.unit.office, year=kit.fiscal_year)
    kit.submitted()
    allowed = allowed_from_database()
    for user, url in (
        ("tadmin", reverse("yearend-closes")),
        ("tadmin", reverse("yearend-close", args=[close.pk])),
        ("tadmin", reverse("yearend-close-confirm", args=[close.pk])),
        ("tadmin", reverse("yearend-close-progress", args=[close.pk])),
    ):
        client = _english(kit.user(user))
        page = _page(client, url) if "progress" not in url else client.get(url).content.decode()
        assert "Khóa sổ" not in page and "Chuyển ủy quyền" not in page, url
        assert findings(page, "en", allowed) == [], url
