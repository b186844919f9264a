"""The autopay pages, per role: lists show only the user's rows; an
authorization is drafted, signed, submitted, confirmed, rejected and revoked
through the pages; a service's refusal is shown as its sentence (never a 500);
another unit's objects are 404; the runs page's progress fragment polls while
a run is going. States are reached through the real services (autopay_kit)."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts import crypto
from autopay import services as autopay
from autopay.models import AuthorizationStatus, AutopayAuthorization, ExceptionCode, InvoiceStatus
from autopay.tests.autopay_kit import autopay_kit
from conftest import enrol_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    return autopay_kit(world, "a")


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


def reauthenticate(client: Client) -> None:
    """allauth's re-authentication (the signing page asks for it)."""
    response = client.post(reverse("account_reauthenticate"), {"password": settings.DEMO_PASSWORD})
    assert response.status_code == 302, response.content[:500]


def text(response) -> str:  # noqa: ANN001
    return re.sub(r"\s+", " ", response.content.decode())


def form_data(kit, **overrides) -> dict:  # noqa: ANN001, ANN003
    year = kit.fiscal_year
    data = {
        "unit": kit.unit.code,
        "supplier": kit.world.suppliers["evn"].code,
        "customer_codes": "PE0101, PE0102",
        "funding": f"line:{kit.line('6501').pk}",
        "cap_per_invoice": "5000000",
        "cap_per_month": "8000000",
        "valid_from": f"{year}-01-01",
        "valid_to": f"{year}-12-31",
    }
    data.update(overrides)
    return data


def sign_on_page(login, kit, authorization: AutopayAuthorization, username: str):  # noqa: ANN001, ANN201
    client = login(username)
    reauthenticate(client)
    private, key = kit.keys[username]
    authorization.refresh_from_db(fields=["content_hash"])
    signature = crypto.sign(private, bytes.fromhex(authorization.content_hash))
    return client.post(
        reverse("autopay-authorization-sign", args=[authorization.pk]), {"key_id": key.pk, "signature": signature}
    )


# --- lists ---------------------------------------------------------------------------


def test_the_list_shows_only_the_users_units_authorizations(kit, world, login, django_assert_max_num_queries):
    mine = kit.draft_authorization(codes=("PE0001",))
    kit.draft_authorization(codes=("PE0002",), supplier="vnpt", from_deposit=True)
    other = autopay_kit(world, "b").draft_authorization(codes=("PB0009",))
    client = login("a_preparer")
    with django_assert_max_num_queries(14):
        response = client.get(reverse("autopay-authorizations"))
    html = text(response)
    assert response.status_code == 200
    assert f'href="{reverse("autopay-authorization", args=[mine.pk])}"' in html and "PE0001" in html
    assert "PE0002" in html and str(other) not in html and "PB0009" not in html
    assert reverse("autopay-authorization-create") in html
    filtered = text(client.get(reverse("autopay-authorizations"), {"status": "active"}))
    assert "PE0001" not in filtered and "Chưa có ủy quyền nào." in filtered
    # The treasury of office A sees A's authorizations, not B's.
    treasury = text(login("officer").get(reverse("autopay-authorizations")))
    assert "PE0001" in treasury and "PB0009" not in treasury
    assert reverse("autopay-authorization-create") not in treasury
    assert login("evn_clerk").get(reverse("autopay-authorizations")).status_code == 404


# --- create and edit -----------------------------------------------------------------


def test_a_preparer_drafts_an_authorization_on_the_page(kit, login):
    client = login("a_preparer")
    page = text(client.get(reverse("autopay-authorization-create")))
    assert kit.world.suppliers["evn"].name in page
    assert f'value="line:{kit.line("6501").pk}"' in page and f'value="deposit:{kit.deposit.pk}"' in page
    response = client.post(reverse("autopay-authorization-create"), form_data(kit))
    authorization = AutopayAuthorization.objects.get(unit=kit.unit)
    assert response.status_code == 302 and response["Location"] == reverse(
        "autopay-authorization", args=[authorization.pk]
    )
    assert authorization.status == AuthorizationStatus.DRAFT
    assert sorted(authorization.customer_codes.values_list("customer_code", flat=True)) == ["PE0101", "PE0102"]
    assert (authorization.budget_line, authorization.cap_per_month) == (kit.line("6501"), 8_000_000)
    detail = text(client.get(response["Location"]))
    assert "Đã lưu nháp ủy quyền" in detail and "Chờ kế toán trưởng ký." in detail
    assert authorization.content_hash in detail and "Lập ủy quyền" in detail
    # The deposit account can be charged instead.
    response = client.post(
        reverse("autopay-authorization-create"),
        form_data(kit, customer_codes="PE0200", funding=f"deposit:{kit.deposit.pk}"),
    )
    assert response.status_code == 302
    assert AutopayAuthorization.objects.get(customer_codes__customer_code="PE0200").deposit_account == kit.deposit


@pytest.mark.parametrize(
    ("overrides", "sentence"),
    [
        ({"cap_per_month": "1000000"}, "Hạn mức mỗi tháng phải không nhỏ hơn hạn mức mỗi hóa đơn."),
        ({"valid_to": "2099-12-31"}, "chỉ có hiệu lực trong năm ngân sách đó"),
        ({"customer_codes": "PE 01!"}, "Mã khách hàng chỉ gồm chữ, số"),
        ({"customer_codes": "PE01, PE01"}, "Mã khách hàng bị trùng."),
    ],
)
def test_bad_input_is_shown_as_the_services_sentence(kit, login, overrides, sentence):
    response = login("a_preparer").post(reverse("autopay-authorization-create"), form_data(kit, **overrides))
    assert response.status_code == 400
    assert sentence in text(response)
    assert not AutopayAuthorization.objects.exists()


def test_shape_errors_and_foreign_choices_never_reach_the_service(kit, world, login):
    foreign_line = autopay_kit(world, "b").line("6501")
    client = login("a_preparer")
    response = client.post(
        reverse("autopay-authorization-create"),
        form_data(kit, funding=f"line:{foreign_line.pk}", cap_per_invoice="abc", customer_codes=""),
    )
    assert response.status_code == 400
    html = text(response)
    assert "Trường này là bắt buộc." in html and "Hãy chọn một lựa chọn hợp lệ." in html
    assert "Nhập một số" in html
    assert not AutopayAuthorization.objects.exists()


def test_editing_a_draft_voids_its_signatures_and_a_submitted_one_is_not_editable(kit, login):
    authorization = kit.draft_authorization(codes=("PE0001",))
    kit.sign_authorization(authorization, "a_chief")
    client = login("a_preparer")
    url = reverse("autopay-authorization-edit", args=[authorization.pk])
    page = text(client.get(url))
    assert "PE0001</textarea>" in page
    assert "các chữ ký trước đó mất hiệu lực" in page
    data = form_data(kit, customer_codes="PE0001 PE0003", cap_per_invoice="4000000")
    data.pop("supplier")  # disabled on edit
    response = client.post(url, data)
    assert response.status_code == 302
    authorization.refresh_from_db()
    assert authorization.cap_per_invoice == 4_000_000
    assert not authorization.signatures.filter(voided_at__isnull=True).exists()
    assert "Chờ kế toán trưởng ký." in text(client.get(response["Location"]))

    submitted = kit.submitted_authorization(codes=("PE0009",))
    response = client.get(reverse("autopay-authorization-edit", args=[submitted.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("autopay-authorization", args=[submitted.pk])
    assert "Chỉ sửa được ủy quyền đang ở trạng thái nháp." in text(client.get(response["Location"]))


# --- sign and submit -----------------------------------------------------------------


def test_signers_sign_in_the_page_and_the_holder_submits(kit, login):
    authorization = kit.draft_authorization(codes=("PE0001",))
    url = reverse("autopay-authorization-sign", args=[authorization.pk])
    chief = login("a_chief")
    response = chief.get(url)
    assert response.status_code == 302 and reverse("account_reauthenticate") in response["Location"]
    reauthenticate(chief)
    page = text(chief.get(url))
    _private, key = kit.keys["a_chief"]
    assert "data-sign" in page and f'data-content-hash="{authorization.content_hash}"' in page
    assert f'data-public-key="{key.public_key}"' in page and "js/signing.js" in page

    # The holder cannot sign first.
    response = sign_on_page(login, kit, authorization, "a_holder")
    assert response.status_code == 409 and "Kế toán trưởng phải ký trước" in text(response)

    response = sign_on_page(login, kit, authorization, "a_chief")
    assert response.status_code == 302
    assert "Đã ký với vai trò kế toán trưởng." in text(chief.get(response["Location"]))
    holder = login("a_holder")
    detail = text(holder.get(reverse("autopay-authorization", args=[authorization.pk])))
    assert "Chờ chủ tài khoản ký và gửi kho bạc." in detail and "Kế toán trưởng" in detail
    assert sign_on_page(login, kit, authorization, "a_holder").status_code == 302
    response = holder.post(reverse("autopay-authorization-submit", args=[authorization.pk]))
    assert response.status_code == 302
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.SUBMITTED
    detail = text(holder.get(response["Location"]))
    assert "Đã gửi ủy quyền đến kho bạc để xác nhận." in detail
    for label in ("Lập ủy quyền", "Ký số", "Gửi kho bạc"):
        assert label in detail


def test_a_bad_signature_and_an_early_submit_are_refused_with_a_sentence(kit, login):
    authorization = kit.draft_authorization(codes=("PE0001",))
    chief = login("a_chief")
    reauthenticate(chief)
    _private, key = kit.keys["a_chief"]
    other_private, _public = crypto.generate_keypair()
    bad = crypto.sign(other_private, bytes.fromhex(authorization.content_hash))
    response = chief.post(
        reverse("autopay-authorization-sign", args=[authorization.pk]), {"key_id": key.pk, "signature": bad}
    )
    assert response.status_code == 409 and "Chữ ký không hợp lệ" in text(response)
    response = chief.post(reverse("autopay-authorization-sign", args=[authorization.pk]), {"key_id": key.pk})
    assert response.status_code == 400 and "Trình duyệt chưa tạo được chữ ký" in text(response)
    assert not authorization.signatures.exists()

    response = login("a_holder").post(reverse("autopay-authorization-submit", args=[authorization.pk]))
    assert response.status_code == 409
    assert "Ủy quyền chưa đủ hai chữ ký" in text(response)
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.DRAFT
    # A preparer has no submit button and the route is not theirs.
    assert login("a_preparer").post(reverse("autopay-authorization-submit", args=[authorization.pk])).status_code == 404


# --- the treasury confirms or rejects ---------------------------------------------------


def test_the_administrator_confirms_from_the_list_of_awaiting_authorizations(kit, world, login):
    submitted = kit.submitted_authorization(codes=("PE0001",))
    other = autopay_kit(world, "b").submitted_authorization(codes=("PB0001",))
    admin = login("tadmin")
    page = text(admin.get(reverse("autopay-confirmations")))
    assert str(submitted) in page and "PE0001" in page and "PB0001" not in page and str(other) + " " not in page
    assert reverse("autopay-authorization-confirm", args=[submitted.pk]) in page
    response = admin.post(
        reverse("autopay-authorization-confirm", args=[submitted.pk]), {"next": reverse("autopay-confirmations")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("autopay-confirmations")
    submitted.refresh_from_db()
    assert submitted.status == AuthorizationStatus.ACTIVE
    after = text(admin.get(reverse("autopay-confirmations")))
    assert "Đã xác nhận ủy quyền" in after and "Không có ủy quyền nào chờ xác nhận." in after
    # Another office's authorization is not found; an officer may not confirm.
    assert login("tadmin").post(reverse("autopay-authorization-confirm", args=[other.pk])).status_code == 404
    assert login("officer").get(reverse("autopay-confirmations")).status_code == 404


def test_reject_needs_a_reason_which_the_unit_then_reads(kit, login):
    submitted = kit.submitted_authorization(codes=("PE0001",))
    admin = login("tadmin")
    url = reverse("autopay-authorization-reject", args=[submitted.pk])
    response = admin.post(url, {"reject-note": "  "})
    assert response.status_code == 400 and "Trường này là bắt buộc." in text(response)
    submitted.refresh_from_db()
    assert submitted.status == AuthorizationStatus.SUBMITTED
    response = admin.post(url, {"reject-note": "Mã khách hàng PE0001 không thuộc địa chỉ của đơn vị."})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == AuthorizationStatus.REJECTED
    unit_view = text(login("a_preparer").get(reverse("autopay-authorization", args=[submitted.pk])))
    assert "Lý do kho bạc từ chối" in unit_view and "không thuộc địa chỉ của đơn vị" in unit_view
    # Confirming it now is refused with the service's sentence on the page.
    response = admin.post(reverse("autopay-authorization-confirm", args=[submitted.pk]))
    assert response.status_code == 409 and "Không thể thực hiện thao tác này" in text(response)


def test_the_chief_accountant_revokes_an_active_authorization(kit, login):
    active = kit.active_authorization(codes=("PE0001",))
    assert login("a_preparer").post(reverse("autopay-authorization-revoke", args=[active.pk])).status_code == 404
    chief = login("a_chief")
    page = text(chief.get(reverse("autopay-authorization", args=[active.pk])))
    assert reverse("autopay-authorization-revoke", args=[active.pk]) in page and "data-confirm" in page
    response = chief.post(reverse("autopay-authorization-revoke", args=[active.pk]), {"revoke-note": "Đổi nhà"})
    assert response.status_code == 302
    active.refresh_from_db()
    assert active.status == AuthorizationStatus.REVOKED
    page = text(chief.get(response["Location"]))
    assert "Đã thu hồi ủy quyền" in page and "Đổi nhà" in page
    assert reverse("autopay-authorization-revoke", args=[active.pk]) not in page
    # Revoking again is a repeat, not an error; a revoked one cannot be submitted.
    response = login("a_holder").post(reverse("autopay-authorization-submit", args=[active.pk]))
    assert response.status_code == 409 and "Đã thu hồi" in text(response)


def test_another_units_authorization_is_404_on_every_page(kit, world, login):
    authorization = kit.draft_authorization(codes=("PE0001",))
    autopay_kit(world, "b")
    for username, name, method in [
        ("b_preparer", "autopay-authorization", "get"),
        ("b_preparer", "autopay-authorization-edit", "get"),
        ("b_preparer", "autopay-authorization-edit", "post"),
        ("b_chief", "autopay-authorization-sign", "get"),
        ("b_chief", "autopay-authorization-revoke", "post"),
        ("b_holder", "autopay-authorization-submit", "post"),
        ("tadmin_b", "autopay-authorization-confirm", "post"),
        ("tadmin_b", "autopay-authorization-reject", "post"),
        ("officer_b", "autopay-authorization", "get"),
    ]:
        response = getattr(login(username), method)(reverse(name, args=[authorization.pk]))
        assert response.status_code == 404, (username, name, response.status_code)
    assert login("a_preparer").get(reverse("autopay-authorization", args=[authorization.pk + 999])).status_code == 404


# --- invoices ------------------------------------------------------------------------


@pytest.fixture
def settled(kit, django_capture_on_commit_callbacks):  # noqa: ANN001, ANN201
    """Unit A's EVN authorization with one invoice paid and one over the cap."""
    kit.active_authorization(codes=("PE0001",), cap_per_invoice=2_000_000, cap_per_month=5_000_000)
    paid = kit.invoice("PE0001", 1_234_000, number="HD-PAID-1")
    over = kit.invoice("PE0001", 3_000_000, number="HD-OVER-1")
    with django_capture_on_commit_callbacks(execute=True):
        autopay.autopay_run()
    paid.refresh_from_db()
    over.refresh_from_db()
    assert (paid.status, over.exception_code) == (InvoiceStatus.PAID, ExceptionCode.OVER_CAP)
    return paid, over


def test_the_unit_sees_paid_invoices_with_the_debit_advice_and_exceptions_with_the_reason(
    settled, world, login, django_assert_max_num_queries
):
    paid, over = settled
    client = login("a_holder")
    with django_assert_max_num_queries(14):
        response = client.get(reverse("autopay-unit-invoices"))
    html = text(response)
    advice = reverse("debit-advice-pdf", args=[paid.transfer_id])
    assert "HD-PAID-1" in html and f'href="{advice}"' in html and "1.234.000 ₫" in html
    assert "HD-OVER-1" in html and "over_cap" in html and over.exception_reason in html
    only_exceptions = text(client.get(reverse("autopay-unit-invoices"), {"status": "exception"}))
    assert "HD-OVER-1" in only_exceptions and "HD-PAID-1" not in only_exceptions
    by_code = text(client.get(reverse("autopay-unit-invoices"), {"code": "duplicate_period"}))
    assert "HD-OVER-1" not in by_code and "Không có hóa đơn nào." in by_code
    pdf = client.get(advice)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # Unit B sees none of them, nor the advice.
    autopay_kit(world, "b")
    other = text(login("b_holder").get(reverse("autopay-unit-invoices")))
    assert "HD-PAID-1" not in other and "HD-OVER-1" not in other
    assert login("b_holder").get(advice).status_code == 404
    # Bad filter values are ignored, not a 500.
    assert client.get(reverse("autopay-unit-invoices"), {"status": "nope", "page": "x"}).status_code == 200


def test_treasury_staff_see_their_offices_exceptions_filtered_by_code(settled, login):
    _paid, over = settled
    officer = text(login("officer").get(reverse("autopay-exceptions")))
    assert "HD-OVER-1" in officer and "HD-PAID-1" not in officer and over.unit.code in officer
    filtered = text(login("officer").get(reverse("autopay-exceptions"), {"code": "amount_anomaly"}))
    assert "HD-OVER-1" not in filtered
    by_unit = text(login("officer").get(reverse("autopay-exceptions"), {"unit": over.unit.code, "code": "over_cap"}))
    assert "HD-OVER-1" in by_unit
    assert "HD-OVER-1" not in text(login("officer").get(reverse("autopay-exceptions"), {"unit": "1999999"}))
    bad = login("officer").get(reverse("autopay-exceptions"), {"unit": "12ab"})
    assert bad.status_code == 200 and "HD-OVER-1" in text(bad)  # an invalid filter is ignored, not a 500
    assert "HD-OVER-1" not in text(login("officer_b").get(reverse("autopay-exceptions")))
    assert login("a_holder").get(reverse("autopay-exceptions")).status_code == 404


def test_a_supplier_clerk_sees_their_invoices_with_the_exception_code_only(settled, login):
    _paid, over = settled
    page = text(login("evn_clerk").get(reverse("autopay-supplier-invoices")))
    assert "HD-PAID-1" in page and "HD-OVER-1" in page and "over_cap" in page
    assert over.exception_reason not in page  # the unit's budget and caps stay with the unit
    assert "HD-OVER-1" not in text(login("vnpt_clerk").get(reverse("autopay-supplier-invoices")))
    assert login("a_holder").get(reverse("autopay-supplier-invoices")).status_code == 404


# --- runs ----------------------------------------------------------------------------


def test_runs_page_shows_progress_that_polls_until_the_run_ends(kit, login, django_capture_on_commit_callbacks):
    kit.active_authorization(codes=("PE0001", "PE0002"))
    kit.invoice("PE0001", 500_000)
    kit.invoice("PE0002", 700_000)
    run = autopay.autopay_run_start(trigger="command")
    with django_capture_on_commit_callbacks(execute=True):
        autopay.autopay_settle_batch(run=run, batch_size=1)
    client = login("officer")
    page = text(client.get(reverse("autopay-runs")))
    assert f"#{run.pk}" in page and 'role="progressbar"' in page and 'aria-valuenow="50"' in page
    assert f'hx-get="{reverse("autopay-runs-progress")}"' in page and 'hx-trigger="every 3s"' in page
    assert "Hóa đơn đã thanh toán và ngoại lệ mỗi ngày, 14 ngày gần nhất" in page and "<svg" in page
    fragment = text(client.get(reverse("autopay-runs-progress"), HTTP_HX_REQUEST="true"))
    assert fragment.strip().startswith('<div id="autopay-runs"') and "every 3s" in fragment and "<html" not in fragment
    with django_capture_on_commit_callbacks(execute=True):
        autopay.autopay_run_batches(run_id=run.pk)
    fragment = text(client.get(reverse("autopay-runs-progress"), HTTP_HX_REQUEST="true"))
    assert "hx-trigger" not in fragment and 'role="progressbar"' not in fragment and "2/2" in fragment
    page = text(client.get(reverse("autopay-runs")))
    assert "2 hóa đơn đã thanh toán, 0 hóa đơn vào danh sách ngoại lệ." in page
    assert login("a_holder").get(reverse("autopay-runs")).status_code == 404
    assert login("a_holder").get(reverse("autopay-runs-progress")).status_code == 404


# --- home and navigation -------------------------------------------------------------


def test_home_shows_the_units_exceptions_and_the_administrators_awaiting_authorizations(settled, kit, login):
    holder_home = login("a_holder").get(reverse("home"))
    section = next(s for s in holder_home.context["sections"] if s["url"].startswith(reverse("autopay-unit-invoices")))
    assert section["count"] == 1
    nav = {i["url"] for i in holder_home.context["nav_items"]}
    assert reverse("autopay-authorizations") in nav and reverse("autopay-runs") not in nav

    waiting = kit.submitted_authorization(codes=("PE0777",), supplier="vnpt")
    admin_home = login("tadmin").get(reverse("home"))
    section = next(s for s in admin_home.context["sections"] if s["url"] == reverse("autopay-confirmations"))
    assert section["count"] == 1
    assert reverse("autopay-authorization", args=[waiting.pk]) in text(admin_home)
    assert reverse("autopay-runs") in {i["url"] for i in admin_home.context["nav_items"]}
    officer_home = login("officer").get(reverse("home"))
    assert any(s["url"] == reverse("autopay-exceptions") and s["count"] == 1 for s in officer_home.context["sections"])
    clerk_nav = {i["url"] for i in login("evn_clerk").get(reverse("home")).context["nav_items"]}
    assert reverse("autopay-supplier-invoices") in clerk_nav


def test_the_pages_read_in_english(settled, kit, world):
    from autopay.models import SupplierInvoice
    from tests.test_i18n import _english, _page, _untranslated_on

    draft = kit.draft_authorization(codes=("PE0901",))
    submitted = kit.submitted_authorization(codes=("PE0902",), supplier="vnpt")
    # Stored texts are shown as they were written (the run's reasons are Vietnamese, like the documents).
    data = frozenset(" ".join(r.split()) for r in SupplierInvoice.objects.values_list("exception_reason", flat=True))
    visits = {
        "a_holder": [
            reverse("autopay-authorizations"),
            reverse("autopay-authorization", args=[draft.pk]),
            reverse("autopay-authorization-create"),
            reverse("autopay-unit-invoices"),
            reverse("home"),
        ],
        "tadmin": [
            reverse("autopay-confirmations"),
            reverse("autopay-authorization", args=[submitted.pk]),
            reverse("autopay-exceptions"),
            reverse("autopay-runs"),
            reverse("home"),
        ],
        "evn_clerk": [reverse("autopay-supplier-invoices")],
    }
    # The requests activate English in this thread; the override restores the language after them, so
    # the tests that run next in this process read Vietnamese service messages again.
    with translation.override(settings.LANGUAGE_CODE):
        for username, urls in visits.items():
            client = _english(world.users[username])
            for url in urls:
                page = _page(client, url)  # 200, in English
                assert _untranslated_on(page, data) == [], url
        page = _english(world.users["a_holder"]).get(reverse("autopay-unit-invoices")).content.decode()
    assert "Debit advice (PDF) of invoice HD-PAID-1" in page and "1,234,000 VND" in page
    assert translation.get_language() == settings.LANGUAGE_CODE


def test_runs_page_shows_an_abandoned_run_in_both_languages(kit, login, world):
    from datetime import timedelta

    from django.utils import timezone

    from autopay.models import AutopayRun
    from tests.test_i18n import _english, _page, _untranslated_on

    kit.active_authorization(codes=("PE0001",))
    kit.invoice("PE0001", 500_000)
    run = autopay.autopay_run_start(trigger="schedule")
    AutopayRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert autopay.autopay_runs_abandon_stale() == [run.pk]
    page = text(login("officer").get(reverse("autopay-runs")))
    assert "Bị bỏ dở" in page and "lần chạy sau xử lý các hóa đơn còn lại" in page
    fragment = text(login("officer").get(reverse("autopay-runs-progress"), HTTP_HX_REQUEST="true"))
    assert "Bị bỏ dở" in fragment and "every 3s" not in fragment  # nothing is running: no polling
    with translation.override(settings.LANGUAGE_CODE):
        english = _page(_english(world.users["tadmin"]), reverse("autopay-runs"))
        assert _untranslated_on(english) == []
    assert "Abandoned" in english and "the next run settles the remaining invoices" in english
