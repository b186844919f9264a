"""Acting on the exception list: an exception is retried (back to `pending`,
decided again by the next run under the rules of that moment) or closed with a
note (handled another way). Who may, another unit's invoice, repeats, closed
and paid-period exceptions refused, the run queued on commit; the API and the
pages (unit and treasury, in Vietnamese and English)."""

import re
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from autopay import selectors
from autopay import services as autopay
from autopay.models import AutopayEvent, ExceptionCode, InvoiceStatus, SupplierInvoice
from autopay.page_selectors import unit_recent_exceptions
from autopay.tests.autopay_kit import autopay_kit
from conftest import enrol_totp
from payments.models import Notification, NotificationKind
from payments.selectors.reconcile import reconcile
from payments.services.budget import budget_allocate
from tests.postgres import needs_postgres
from treasury_portal.errors import ApplicationError, NotFound, PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    return autopay_kit(world, "a")


def _over_cap(kit, amount: int = 3_000_000, number: str = "HD-OVER-1", **auth):  # noqa: ANN001, ANN003, ANN202
    """Unit A's EVN authorization (cap 2.000.000 per invoice) and one invoice above it, settled."""
    authorization = kit.active_authorization(
        codes=("PE0001",), **{"cap_per_invoice": 2_000_000, "cap_per_month": 5_000_000, **auth}
    )
    invoice = kit.invoice("PE0001", amount, number=number)
    autopay.autopay_run()
    invoice.refresh_from_db()
    assert (invoice.status, invoice.exception_code) == (InvoiceStatus.EXCEPTION, ExceptionCode.OVER_CAP)
    return authorization, invoice


@pytest.fixture
def over(kit):  # noqa: ANN001, ANN201
    return _over_cap(kit)[1]


def _code(excinfo) -> str:  # noqa: ANN001
    return excinfo.value.code


# --- the services -----------------------------------------------------------------------


def test_a_retry_puts_the_exception_back_to_pending_and_keeps_its_history(kit, over):
    old_reason = over.exception_reason
    invoice = autopay.autopay_invoice_retry(actor=kit.user("a_chief"), invoice=over, note="Đã nâng hạn mức")
    assert (invoice.status, invoice.exception_code, invoice.exception_reason, invoice.settled_at) == (
        InvoiceStatus.PENDING, "", "", None,
    )
    event = AutopayEvent.objects.get(invoice=over, action="retry")
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        kit.user("a_chief"), InvoiceStatus.EXCEPTION, InvoiceStatus.PENDING, "Đã nâng hạn mức",
    )
    assert event.data["code"] == ExceptionCode.OVER_CAP and event.data["reason"] == old_reason
    # It left the exception list (and the home count) of the unit and of the treasury.
    assert not selectors.exceptions_visible(kit.user("a_holder")).exists()
    assert not selectors.exceptions_visible(kit.user("officer")).exists()
    assert unit_recent_exceptions(kit.user("a_holder")).count() == 0


def test_a_second_retry_is_refused(kit, over):
    autopay.autopay_invoice_retry(actor=kit.user("a_holder"), invoice=over)
    with pytest.raises(ApplicationError) as excinfo:
        autopay.autopay_invoice_retry(actor=kit.user("tadmin"), invoice=over.pk)
    assert _code(excinfo) == "invoice_not_in_exception" and excinfo.value.http_status == 409
    assert "HD-OVER-1" in excinfo.value.message and "Chờ thanh toán" in excinfo.value.message
    assert AutopayEvent.objects.filter(invoice=over, action="retry").count() == 1


@pytest.mark.parametrize("username", ["a_chief", "a_holder", "tadmin", "officer", "officer2"])
def test_who_may_retry_and_close(kit, over, username):
    assert autopay.autopay_invoice_retry(actor=kit.user(username), invoice=over).status == InvoiceStatus.PENDING
    autopay.autopay_run()  # still over the cap: an exception again
    closed = autopay.autopay_invoice_close(actor=kit.user(username), invoice=over, note="Đã trả bằng chứng từ")
    assert closed.closed_by == kit.user(username) and closed.status == InvoiceStatus.EXCEPTION


def _notices(kit, username: str, action: str) -> list[Notification]:  # noqa: ANN001
    return list(Notification.objects.filter(user=kit.user(username), kind=NotificationKind.AUTOPAY,
                                             data__action=action))


def test_the_unit_is_told_when_the_treasury_retries_or_closes_its_exception(kit, over):
    autopay.autopay_invoice_retry(actor=kit.user("officer"), invoice=over, note="Hạn mức đã được nâng")
    for signer in ("a_holder", "a_chief"):
        (notice,) = _notices(kit, signer, "retry")
        assert "HD-OVER-1" in notice.title and "lần chạy thanh toán tự động tới" in notice.title
        assert notice.body.endswith("Hạn mức đã được nâng") and notice.unit_id == over.unit_id
        assert notice.data["invoice_id"] == over.pk and notice.data["actor_id"] == kit.user("officer").pk
        # Delivered by the outbox like every notification (e-mail and SMS rows written with it).
        assert notice.deliveries.exists()
    autopay.autopay_run()  # still over the cap: an exception again
    autopay.autopay_invoice_close(actor=kit.user("tadmin"), invoice=over, note="Đã trả bằng chứng từ số 15")
    (notice,) = _notices(kit, "a_holder", "close")
    assert "đã được đóng" in notice.title and notice.body.endswith("Đã trả bằng chứng từ số 15")
    others = [kit.user(name) for name in ("officer", "tadmin", "a_preparer", "b_holder")]
    assert not Notification.objects.filter(user__in=others, data__action__in=["retry", "close"]).exists()


def test_the_signer_who_acts_is_not_told_of_it(kit, over):
    autopay.autopay_invoice_close(actor=kit.user("a_chief"), invoice=over, note="Đã trả bằng chứng từ số 15")
    assert _notices(kit, "a_chief", "close") == [] and len(_notices(kit, "a_holder", "close")) == 1


def test_a_refused_retry_tells_nobody(kit, over):
    autopay.autopay_invoice_retry(actor=kit.user("officer"), invoice=over)
    with pytest.raises(ApplicationError):
        autopay.autopay_invoice_retry(actor=kit.user("officer"), invoice=over)
    assert len(_notices(kit, "a_holder", "retry")) == 1


@pytest.mark.parametrize(
    "username",
    [
        "a_preparer",  # the unit, without a signer's role
        "approver",  # the treasury over the unit, but an approver
        "evn_clerk",  # the supplier
        "b_chief", "b_holder", "tadmin_b", "officer_b",  # another unit, another office
    ],
)
def test_who_may_not(kit, over, username):
    for call in (
        lambda: autopay.autopay_invoice_retry(actor=kit.user(username), invoice=over),
        lambda: autopay.autopay_invoice_close(actor=kit.user(username), invoice=over, note="x"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    over.refresh_from_db()
    assert over.status == InvoiceStatus.EXCEPTION and over.closed_at is None
    assert not AutopayEvent.objects.filter(invoice=over, action__in=["retry", "close"]).exists()


def test_an_invoice_nobody_authorized_is_not_found_for_the_units(kit):
    kit.active_authorization(codes=("PE0001",))
    stray = kit.invoice("NOBODY", 100_000)
    autopay.autopay_run()
    stray.refresh_from_db()
    assert stray.unit is None and stray.exception_code == ExceptionCode.NO_AUTHORIZATION
    with pytest.raises(NotFound):
        autopay.autopay_invoice_retry(actor=kit.user("a_chief"), invoice=stray)


def test_a_retry_after_the_cap_is_raised_is_paid_by_the_run_it_queues(kit, django_capture_on_commit_callbacks):
    authorization, over = _over_cap(kit)
    # The unit raises its cap: a new authorization for the same customer code.
    autopay.authorization_revoke(actor=kit.user("a_holder"), authorization=authorization)
    kit.active_authorization(codes=("PE0001",), cap_per_invoice=5_000_000, cap_per_month=9_000_000)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        autopay.autopay_invoice_retry(actor=kit.user("a_holder"), invoice=over)
    assert callbacks  # a run was asked for on commit (sweep_autopay; eager in tests)
    over.refresh_from_db()
    assert over.status == InvoiceStatus.PAID and over.transfer.amount == 3_000_000
    assert over.exception_code == "" and over.exception_reason == ""
    actions = list(AutopayEvent.objects.filter(invoice=over).order_by("id").values_list("action", flat=True))
    assert actions == ["receive", "except", "retry", "pay"]
    assert reconcile().ok, reconcile().problems


def test_a_retry_after_budget_is_given_is_paid(kit):
    line = kit.line("6605")
    kit.active_authorization(codes=("NET1",), ndkt="6605", cap_per_invoice=30_000_000, cap_per_month=30_000_000)
    available = line.allocated - line.reserved - line.spent
    invoice = kit.invoice("NET1", available + 1_000_000)
    autopay.autopay_run()
    invoice.refresh_from_db()
    assert invoice.exception_code == ExceptionCode.INSUFFICIENT_BUDGET
    budget_allocate(actor=kit.user("tadmin"), budget_line=line, amount=2_000_000, key="retry-test-top-up")
    autopay.autopay_invoice_retry(actor=kit.user("officer"), invoice=invoice)
    run = autopay.autopay_run()
    invoice.refresh_from_db()
    assert (run.paid, invoice.status) == (1, InvoiceStatus.PAID)
    line.refresh_from_db()
    assert line.reserved + line.spent <= line.allocated
    assert reconcile().ok, reconcile().problems


def test_a_retry_that_still_fails_comes_back_with_the_current_reason(kit):
    authorization, over = _over_cap(kit)
    first_reason = over.exception_reason
    autopay.authorization_revoke(actor=kit.user("a_chief"), authorization=authorization)
    autopay.autopay_invoice_retry(actor=kit.user("a_chief"), invoice=over)
    run = autopay.autopay_run()
    over.refresh_from_db()
    assert run.excepted == 1
    assert (over.status, over.exception_code) == (InvoiceStatus.EXCEPTION, ExceptionCode.NO_AUTHORIZATION)
    assert over.exception_reason != first_reason and "PE0001" in over.exception_reason
    assert over.unit == kit.unit and over.settled_at is not None
    assert list(selectors.exceptions_visible(kit.user("a_holder"))) == [over]
    actions = list(AutopayEvent.objects.filter(invoice=over).order_by("id").values_list("action", flat=True))
    assert actions == ["receive", "except", "retry", "except"]
    # It can be retried again, as often as the unit needs.
    assert autopay.autopay_invoice_retry(actor=kit.user("a_chief"), invoice=over).status == InvoiceStatus.PENDING


def test_a_closed_exception_leaves_the_open_list_and_cannot_be_retried(kit, over):
    with pytest.raises(ApplicationError) as excinfo:
        autopay.autopay_invoice_close(actor=kit.user("a_holder"), invoice=over, note="   ")
    assert _code(excinfo) == "validation_error" and "note" in excinfo.value.fields
    closed = autopay.autopay_invoice_close(
        actor=kit.user("a_holder"), invoice=over, note="Đã thanh toán bằng chứng từ số 12"
    )
    assert closed.status == InvoiceStatus.EXCEPTION and closed.exception_code == ExceptionCode.OVER_CAP
    assert (closed.closed_by, closed.close_note) == (kit.user("a_holder"), "Đã thanh toán bằng chứng từ số 12")
    assert closed.closed_at is not None
    event = AutopayEvent.objects.get(invoice=over, action="close")
    assert event.actor == kit.user("a_holder") and event.data["code"] == ExceptionCode.OVER_CAP
    # A repeat by the same person with the same note is the same result; anything else is refused.
    again = autopay.autopay_invoice_close(
        actor=kit.user("a_holder"), invoice=over, note="Đã thanh toán bằng chứng từ số 12"
    )
    assert again.closed_at == closed.closed_at
    with pytest.raises(ApplicationError) as excinfo:
        autopay.autopay_invoice_close(actor=kit.user("a_chief"), invoice=over, note="Khác")
    assert _code(excinfo) == "exception_closed"
    with pytest.raises(ApplicationError) as excinfo:
        autopay.autopay_invoice_retry(actor=kit.user("a_chief"), invoice=over)
    assert _code(excinfo) == "exception_closed" and "chứng từ số 12" in excinfo.value.message
    # Open lists and counts no longer hold it; the closed filter does.
    for username in ("a_holder", "officer"):
        user = kit.user(username)
        assert not selectors.exceptions_visible(user).exists()
        assert list(selectors.exceptions_visible(user, closed=True)) == [over]
    assert unit_recent_exceptions(kit.user("a_holder")).count() == 0
    # A later run leaves it alone.
    autopay.autopay_run()
    over.refresh_from_db()
    assert over.status == InvoiceStatus.EXCEPTION and over.closed_at == closed.closed_at


def test_a_paid_period_is_never_retried_but_can_be_closed(kit):
    kit.active_authorization(codes=("PE0001",))
    period = f"{kit.fiscal_year}-03"
    kit.invoice("PE0001", 100_000, period=period)
    autopay.autopay_run()
    duplicate = kit.invoice("PE0001", 100_000, period=period)
    autopay.autopay_run()
    duplicate.refresh_from_db()
    assert duplicate.exception_code == ExceptionCode.DUPLICATE_PERIOD
    with pytest.raises(ApplicationError) as excinfo:
        autopay.autopay_invoice_retry(actor=kit.user("a_chief"), invoice=duplicate)
    assert _code(excinfo) == "period_already_paid" and period in excinfo.value.message
    duplicate.refresh_from_db()
    assert duplicate.status == InvoiceStatus.EXCEPTION
    closed = autopay.autopay_invoice_close(actor=kit.user("a_chief"), invoice=duplicate, note="Hóa đơn gửi trùng")
    assert closed.closed_at is not None


def test_the_pages_offer_what_the_services_allow(kit):
    """selectors.exception_actions (the pages' buttons) agrees with the services:
    who may act, no retry of a paid period, nothing on a closed exception or a
    paid invoice — checked against what the services then do."""
    kit.active_authorization(codes=("PE0001",), cap_per_invoice=2_000_000, cap_per_month=5_000_000)
    period = f"{kit.fiscal_year}-03"
    paid = kit.invoice("PE0001", 100_000, period=period)
    over = kit.invoice("PE0001", 3_000_000, period=f"{kit.fiscal_year}-04")
    autopay.autopay_run()
    duplicate = kit.invoice("PE0001", 100_000, period=period)
    autopay.autopay_run()
    for invoice in (paid, over, duplicate):
        invoice.refresh_from_db()
    chief, preparer = kit.user("a_chief"), kit.user("a_preparer")
    assert selectors.exception_actions(chief, over) == (True, True)
    assert selectors.exception_actions(preparer, over) == (False, False)
    assert selectors.exception_actions(chief, duplicate) == (False, True)
    assert selectors.exception_actions(chief, paid) == (False, False)
    with pytest.raises(PermissionDenied):
        autopay.autopay_invoice_retry(actor=preparer, invoice=over)
    closed = autopay.autopay_invoice_close(actor=chief, invoice=duplicate, note="Hóa đơn gửi trùng")
    assert selectors.exception_actions(chief, closed) == (False, False)


def test_a_paid_invoice_is_not_an_exception(kit):
    kit.active_authorization(codes=("PE0001",))
    paid = kit.invoice("PE0001", 100_000)
    autopay.autopay_run()
    for call in (
        lambda: autopay.autopay_invoice_retry(actor=kit.user("a_chief"), invoice=paid),
        lambda: autopay.autopay_invoice_close(actor=kit.user("a_chief"), invoice=paid, note="x"),
    ):
        with pytest.raises(ApplicationError) as excinfo:
            call()
        assert _code(excinfo) == "invoice_not_in_exception"


# --- the API ------------------------------------------------------------------------------


def test_retry_and_close_through_the_api(kit, world, api, over):
    url = f"/api/v1/autopay/invoices/{over.pk}"
    # Another unit's and another office's users: it does not exist for them.
    for username in ("b_chief", "tadmin_b", "officer_b"):
        response = api(username).post(f"{url}/retry", {}, format="json")
        assert response.status_code == 404 and response.json()["code"] == "not_found", username
    # Roles that may not act on exceptions.
    for username in ("a_preparer", "approver", "evn_clerk"):
        response = api(username).post(f"{url}/retry", {}, format="json")
        assert response.status_code == 403 and response.json()["code"] == "permission_denied", username
    response = api("a_chief").post(f"{url}/retry", {"note": "Đã nâng hạn mức"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["status"], body["exception_code"], body["closed_at"]) == (over.pk, "pending", None, None)
    again = api("officer").post(f"{url}/retry", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invoice_not_in_exception"
    assert "HD-OVER-1" in again.json()["detail"]
    # Settled again (still over the cap), then closed.
    autopay.autopay_run()
    missing = api("a_holder").post(f"{url}/close", {}, format="json")
    assert missing.status_code == 400 and missing.json()["code"] == "validation_error"
    assert "note" in missing.json()["fields"]
    closed = api("a_holder").post(f"{url}/close/", {"note": "Disputed with EVN"}, format="json")
    assert closed.status_code == 200, closed.json()
    body = closed.json()
    assert (body["status"], body["exception_code"], body["closed_by"], body["close_note"]) == (
        "exception", "over_cap", "a_holder", "Disputed with EVN",
    )
    assert body["closed_at"]
    refused = api("tadmin").post(f"{url}/retry", {}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "exception_closed"
    # The exception list: open by default, the closed ones on request.
    assert api("officer").get("/api/v1/autopay/exceptions").json()["results"] == []
    rows = api("officer").get("/api/v1/autopay/exceptions?closed=true").json()["results"]
    assert [(r["id"], r["closed_by"]) for r in rows] == [(over.pk, "a_holder")]
    assert api("officer_b").get("/api/v1/autopay/exceptions?closed=true").json()["results"] == []
    # The supplier's view of its invoice is unchanged: no unit's notes.
    supplier_view = api("evn_clerk").get(f"/api/v1/supplier/invoices/{over.pk}").json()
    assert supplier_view["status"] == "exception" and "close_note" not in supplier_view


def test_the_api_answers_in_english(kit, api, over):
    autopay.autopay_invoice_retry(actor=kit.user("a_chief"), invoice=over)
    response = api("a_chief").post(
        f"/api/v1/autopay/invoices/{over.pk}/retry", {}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "Invoice HD-OVER-1 is no longer in the exception list (current status: Awaiting payment)."
    )


def test_a_duplicate_period_through_the_api(kit, api):
    kit.active_authorization(codes=("PE0001",))
    kit.invoice("PE0001", 100_000, period=f"{kit.fiscal_year}-02")
    autopay.autopay_run()
    duplicate = kit.invoice("PE0001", 100_000, period=f"{kit.fiscal_year}-02")
    autopay.autopay_run()
    response = api("a_holder").post(f"/api/v1/autopay/invoices/{duplicate.pk}/retry", {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "period_already_paid"


# --- the pages ----------------------------------------------------------------------------


@pytest.fixture
def login(world):  # noqa: ANN001, ANN201
    clients: dict[str, Client] = {}

    def as_user(username: str, **headers: str) -> Client:
        if username not in clients:
            user = world.users[username]
            if not user.authenticator_set.exists():
                enrol_totp(user)
            client = Client(enforce_csrf_checks=True, **headers)
            client.force_login(user)
            clients[username] = client
        return clients[username]

    return as_user


def text(response) -> str:  # noqa: ANN001
    return re.sub(r"\s+", " ", response.content.decode())


def _csrf(client: Client, url: str) -> str:
    html = client.get(url).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _post(client: Client, page: str, url: str, data: dict, **kw) -> object:  # noqa: ANN003
    return client.post(url, {**data, "csrfmiddlewaretoken": _csrf(client, page), "next": page}, follow=True, **kw)


def test_the_unit_retries_and_closes_on_its_invoices_page(kit, login, over, django_assert_max_num_queries):
    page = reverse("autopay-unit-invoices")
    retry_url = reverse("autopay-invoice-retry", args=[over.pk])
    close_url = reverse("autopay-invoice-close", args=[over.pk])
    client = login("a_holder")
    with django_assert_max_num_queries(14):
        html = text(client.get(page))
    assert f'action="{retry_url}"' in html and f'action="{close_url}"' in html
    assert 'aria-label="Thử thanh toán lại hóa đơn HD-OVER-1"' in html
    assert f'<label for="close-note-{over.pk}">' in html and "csrfmiddlewaretoken" in html
    # A preparer sees the exception, not the buttons; a POST without the token is refused.
    assert retry_url not in text(login("a_preparer").get(page))
    assert client.post(retry_url).status_code == 403
    over.refresh_from_db()
    assert over.status == InvoiceStatus.EXCEPTION

    done = _post(client, page, retry_url, {"note": ""})
    assert done.redirect_chain[-1][0] == page
    html = text(done)
    assert "Hóa đơn HD-OVER-1 đã trở lại hàng chờ thanh toán" in html and "10 phút" in html
    assert "Chờ lần chạy tiếp theo" in html and retry_url not in html
    refused = text(_post(client, page, retry_url, {}))
    assert "Hóa đơn HD-OVER-1 không còn trong danh sách ngoại lệ" in refused

    autopay.autopay_run()  # still over the cap: back in the exceptions
    empty_note = text(_post(client, page, close_url, {"note": " "}))
    assert "Cần ghi cách đã xử lý hóa đơn" in empty_note
    over.refresh_from_db()
    assert over.closed_at is None
    closed = text(_post(client, page, close_url, {"note": "Đã thanh toán bằng chứng từ số 7"}))
    assert "Đã đóng ngoại lệ của hóa đơn HD-OVER-1" in closed
    # Closed: out of the open exceptions, under its own filter with who, when and the note.
    assert "HD-OVER-1" not in text(client.get(page, {"status": "exception"}))
    listed = text(client.get(page, {"status": "closed"}))
    assert "HD-OVER-1" in listed and "bởi a_holder" in listed and "Đã thanh toán bằng chứng từ số 7" in listed
    assert retry_url not in listed and close_url not in listed
    home = login("a_holder").get(reverse("home"))
    section = next(s for s in home.context["sections"] if s["url"].startswith(page))
    assert section["count"] == 0


def test_the_treasury_retries_from_its_exception_list(kit, login, over):
    page = reverse("autopay-exceptions")
    retry_url = reverse("autopay-invoice-retry", args=[over.pk])
    client = login("officer")
    html = text(client.get(page))
    assert "HD-OVER-1" in html and f'action="{retry_url}"' in html and "Ngoại lệ đang mở, mới nhất trước" in html
    assert retry_url not in text(login("approver").get(page))  # an approver sees, does not act
    assert "HD-OVER-1" not in text(login("officer_b").get(page))
    # Another office's staff and another unit's signers: 404, nothing changes.
    for username in ("officer_b", "tadmin_b", "b_chief"):
        other = login(username)
        response = other.post(retry_url, {"csrfmiddlewaretoken": _csrf(other, reverse("home"))})
        assert response.status_code == 404, username
    assert login("approver").post(
        retry_url, {"csrfmiddlewaretoken": _csrf(login("approver"), page)}
    ).status_code == 404
    over.refresh_from_db()
    assert over.status == InvoiceStatus.EXCEPTION

    done = _post(client, page, retry_url, {})
    assert "Hóa đơn HD-OVER-1 đã trở lại hàng chờ thanh toán" in text(done)
    assert "HD-OVER-1" not in text(client.get(page))  # pending: no longer an exception
    autopay.autopay_run()
    close_url = reverse("autopay-invoice-close", args=[over.pk])
    _post(client, page, close_url, {"note": "Kho bạc đã đối chiếu với EVN"})
    assert "HD-OVER-1" not in text(client.get(page))
    closed = text(client.get(page, {"closed": "1"}))
    assert "HD-OVER-1" in closed and "Ngoại lệ đã đóng, mới nhất trước" in closed
    assert "bởi officer" in closed and "Kho bạc đã đối chiếu với EVN" in closed and retry_url not in closed
    # Without `next` the action (refused: closed) goes back to the treasury's list.
    assert client.post(retry_url, {"csrfmiddlewaretoken": _csrf(client, page)})["Location"] == page


def test_a_duplicate_period_has_no_retry_button_but_can_be_closed(kit, login):
    kit.active_authorization(codes=("PE0001",))
    period = f"{kit.fiscal_year}-04"
    kit.invoice("PE0001", 100_000, period=period)
    autopay.autopay_run()
    duplicate = kit.invoice("PE0001", 100_000, period=period, number="HD-DUP-1")
    autopay.autopay_run()
    html = text(login("a_chief").get(reverse("autopay-unit-invoices")))
    assert "HD-DUP-1" in html and reverse("autopay-invoice-retry", args=[duplicate.pk]) not in html
    assert reverse("autopay-invoice-close", args=[duplicate.pk]) in html


def test_the_exception_pages_read_in_english(kit, world, over):
    from tests.test_i18n import _english, _page, _untranslated_on

    second = kit.invoice("PE0001", 4_000_000, number="HD-OVER-2")
    autopay.autopay_run()
    autopay.autopay_invoice_close(actor=kit.user("a_chief"), invoice=second, note="Paid by voucher 12")
    data = frozenset(" ".join(r.split()) for r in SupplierInvoice.objects.values_list("exception_reason", flat=True))
    with translation.override(settings.LANGUAGE_CODE):
        pages = []
        for username, urls in {
            "a_holder": [reverse("autopay-unit-invoices"), reverse("autopay-unit-invoices") + "?status=closed"],
            "tadmin": [reverse("autopay-exceptions"), reverse("autopay-exceptions") + "?closed=1"],
        }.items():
            client = _english(world.users[username])
            for url in urls:
                page = _page(client, url)  # 200, in English
                assert _untranslated_on(page, data) == [], url
                pages.append(re.sub(r"\s+", " ", page))
            if username == "a_holder":
                done = client.post(
                    reverse("autopay-invoice-retry", args=[over.pk]), {"next": reverse("autopay-unit-invoices")},
                    follow=True,
                )
                pages.append(re.sub(r"\s+", " ", done.content.decode()))
    unit_page, unit_closed, after_retry, treasury_page, treasury_closed = pages
    assert 'aria-label="Retry the payment of invoice HD-OVER-1"' in unit_page and "Close the exception" in unit_page
    assert "Closed at" in unit_closed and "by a_chief" in unit_closed and "Paid by voucher 12" in unit_closed
    assert "Open exceptions, newest first" in treasury_page and "Closed exceptions, newest first" in treasury_closed
    assert "Invoice HD-OVER-1 is back in the payment queue" in after_retry
    assert translation.get_language() == settings.LANGUAGE_CODE


# --- a race -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@needs_postgres
def test_two_retries_at_once_put_it_back_once(world):
    from tests.test_autopay_races import run_at_once

    kit = autopay_kit(world, "a")
    _authorization, over = _over_cap(kit)
    # The run each retry asks for on commit is left out: it would settle the invoice
    # (an exception again) while the other thread waits, and blur what is tested.
    with mock.patch.object(autopay, "_queue_autopay_sweep", lambda: None):
        results = run_at_once([
            lambda: autopay.autopay_invoice_retry(actor=kit.user("a_chief"), invoice=over.pk),
            lambda: autopay.autopay_invoice_retry(actor=kit.user("officer"), invoice=over.pk),
        ])
    done = [r for r in results if isinstance(r, SupplierInvoice)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(done) == 1 and len(refused) == 1, results
    assert refused[0].code == "invoice_not_in_exception"
    assert AutopayEvent.objects.filter(invoice=over, action="retry").count() == 1
