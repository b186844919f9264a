"""Voucher pages: list, create/edit with preflight, detail, actions, attachments,
signing, review queue. States are reached through the real services (kit)."""


import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts import crypto
from payments.models import BudgetLine
from vouchers import services
from vouchers.models import Voucher, VoucherStatus
from vouchers.tests.kit import PDF, Kit, Upload

pytestmark = pytest.mark.django_db


def submitted_days_ago(kit, monkeypatch, days=10, **kw):
    """A voucher received `days` ago (the clock moved for the services only), so
    it is overdue now without touching its fields."""
    real_now = timezone.now
    past = real_now() - timezone.timedelta(days=days)
    monkeypatch.setattr(timezone, "now", lambda: past)
    try:
        return kit.submitted(**kw)
    finally:
        monkeypatch.setattr(timezone, "now", real_now)


def reauthenticate(client, username):
    """allauth's re-authentication (the signing page asks for it)."""
    response = client.post(reverse("account_reauthenticate"), {"password": settings.DEMO_PASSWORD})
    assert response.status_code == 302, response.content[:500]


def _line_data(kit, amount, *, index=0, ndkt="7000"):
    return {
        f"lines-{index}-budget_line": kit.line(ndkt).pk,
        f"lines-{index}-amount": str(amount),
        f"lines-{index}-description": "Giấy in",
    }


def _voucher_post(kit, amount=2_500_000, **extra):
    data = {
        "unit": kit.unit.code,
        "action": "save",
        "procedure": "C2-02a/NS|payment",
        "fiscal_year": kit.fiscal_year,
        "description": "Mua giấy in cho phòng thi",
        "payee_name": "Công ty TNHH Giấy Việt",
        "payee_account": "0011223344",
        "payee_bank": "VCB",
        "contract_number": "",
        "contract_value": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
        **_line_data(kit, amount),
    }
    data.update(extra)
    return data


# --- list -------------------------------------------------------------------------


def test_list_shows_unit_vouchers_newest_first_with_badges(login, kit):
    first = kit.draft(1_000_000)
    second = kit.submitted(2_000_000)
    html = login("a_preparer").get(reverse("voucher-list")).content.decode()
    assert html.index(second.number) < html.index(first.number)
    assert 'class="badge badge-submitted"' in html and "Đã gửi" in html
    assert "2.000.000 ₫" in html


def test_list_filters_by_status(login, kit):
    draft = kit.draft(1_000_000)
    submitted = kit.submitted(2_000_000)
    html = login("a_preparer").get(reverse("voucher-list"), {"status": "submitted"}).content.decode()
    assert submitted.number in html and draft.number not in html


def test_list_never_shows_other_units_vouchers(login, world, kit):
    mine = kit.draft(1_000_000)
    theirs = Kit(world, prefix="b").submitted(3_000_000)
    html = login("a_chief").get(reverse("voucher-list")).content.decode()
    assert mine.number in html and theirs.number not in html


def test_list_query_count_does_not_depend_on_page_size(login, kit, django_assert_max_num_queries):
    client = login("a_preparer")
    kit.draft(1_000)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("voucher-list"))
    for i in range(12):
        kit.draft(1_000 + i)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("voucher-list"))
    assert response.content.decode().count("badge-draft") == 13


def test_list_paginates(login, kit, monkeypatch):
    from vouchers import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    vouchers = [kit.draft(1_000 + i) for i in range(3)]
    client = login("a_preparer")
    page1 = client.get(reverse("voucher-list")).content.decode()
    page2 = client.get(reverse("voucher-list"), {"page": 2}).content.decode()
    assert vouchers[2].number in page1 and vouchers[0].number not in page1
    assert vouchers[0].number in page2 and 'rel="prev"' in page2


# --- create and edit ---------------------------------------------------------------


def test_create_page_lists_only_the_units_budget_lines(login, kit, world):
    Kit(world, prefix="b")
    html = login("a_preparer").get(reverse("voucher-create")).content.decode()
    own = kit.line("7000")
    other = BudgetLine.objects.filter(unit=world.units["b"]).first()
    assert f'value="{own.pk}"' in html
    assert f'value="{other.pk}"' not in html
    assert 'class="preflight"' in html


def test_create_with_attachment_then_edit(login, kit):
    client = login("a_preparer")
    data = _voucher_post(kit)
    data.update({"att-kind": "invoice", "att-file": SimpleUploadedFile("hoa-don.pdf", PDF, "application/pdf")})
    response = client.post(reverse("voucher-create"), data)
    voucher = Voucher.objects.get(unit=kit.unit)
    assert response.status_code == 302 and response["Location"] == reverse("voucher-edit", args=[voucher.pk])
    assert voucher.total_amount == 2_500_000 and voucher.status == VoucherStatus.DRAFT
    assert voucher.attachments.get().original_name == "hoa-don.pdf"
    html = client.get(response["Location"]).content.decode()
    assert "hoa-don.pdf" in html and "Kiểm tra trước khi gửi" in html


def test_create_shows_field_errors_and_keeps_nothing(login, kit):
    client = login("a_preparer")
    data = _voucher_post(kit, payee_account="x", description="")
    response = client.post(reverse("voucher-create"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert not Voucher.objects.exists()


def test_advance_rule_is_named_by_the_preflight_of_the_saved_draft(login, kit):
    client = login("a_preparer")
    # An advance above 50,000,000 without a contract may be drafted; the panel names what is missing.
    data = _voucher_post(kit, amount=60_000_000, procedure="C2-02a/NS|advance")
    response = client.post(reverse("voucher-create"), data)
    assert response.status_code == 302
    voucher = Voucher.objects.get()
    assert voucher.mode == "advance"
    html = client.get(reverse("voucher-edit", args=[voucher.pk])).content.decode()
    assert "Tạm ứng trên 50.000.000 đồng phải có hợp đồng" in html
    assert "Chưa đủ điều kiện gửi" in html


def test_create_shows_a_service_refusal_next_to_the_form(login, kit):
    client = login("a_preparer")
    data = _voucher_post(kit)
    data["procedure"] = "C4-02a/KB|"  # a payment order needs a deposit account of the unit: it has none
    response = client.post(reverse("voucher-create"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html and "tài khoản tiền gửi" in html
    assert not Voucher.objects.exists()


def test_add_line_without_javascript_keeps_the_values(login, kit):
    client = login("a_preparer")
    data = _voucher_post(kit, add_line="1")
    response = client.post(reverse("voucher-create"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="lines-TOTAL_FORMS" value="2"' in html
    assert "Mua giấy in cho phòng thi" in html
    assert not Voucher.objects.exists()


def test_edit_changes_lines_and_voids_signatures(login, kit):
    voucher = kit.draft(1_500_000)
    kit.sign(voucher, "a_chief")
    client = login("a_preparer")
    data = _voucher_post(kit, amount=1_700_000)
    data.update({"lines-INITIAL_FORMS": "1"})
    response = client.post(reverse("voucher-edit", args=[voucher.pk]), data)
    assert response.status_code == 302
    voucher.refresh_from_db()
    assert voucher.total_amount == 1_700_000
    assert not voucher.signatures.filter(voided_at__isnull=True).exists()


def test_edit_of_a_submitted_voucher_goes_to_the_detail_page(login, kit):
    voucher = kit.submitted()
    response = login("a_preparer").get(reverse("voucher-edit", args=[voucher.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("voucher-detail", args=[voucher.pk])


def test_attachment_upload_rejects_wrong_type_with_a_clear_error(login, kit):
    voucher = kit.draft()
    client = login("a_preparer")
    bad = SimpleUploadedFile("virus.pdf", b"MZ\x90\x00not a pdf", "application/pdf")
    response = client.post(
        reverse("voucher-edit", args=[voucher.pk]), {"action": "attach", "att-kind": "invoice", "att-file": bad}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "PDF, JPEG hoặc PNG" in html and 'role="alert"' in html
    assert not voucher.attachments.exists()


def test_preflight_panel_shows_headroom_documents_and_due_time(login, kit):
    voucher = kit.draft(1_500_000)
    client = login("a_preparer")
    html = client.get(reverse("voucher-preflight", args=[voucher.pk])).content.decode()
    assert "NDKT" in html and "Đủ dự toán" in html
    assert "Nếu gửi bây giờ" in html
    assert "Chưa ký" in html


def test_live_preflight_judges_unsaved_amounts(login, kit):
    allocated = kit.line("6605").allocated
    client = login("a_preparer")
    data = _voucher_post(kit)
    data.update(_line_data(kit, allocated + 1, ndkt="6605"))
    html = client.post(reverse("voucher-create-preflight"), data).content.decode()
    assert "Không đủ dự toán" in html
    data.update(_line_data(kit, 60_000_000, ndkt="7000"))
    html = client.post(reverse("voucher-create-preflight"), data).content.decode()
    assert "Hợp đồng" in html and "Còn thiếu" in html  # a contract is needed above 50,000,000
    assert not Voucher.objects.exists()


# --- detail, signatures, attachments -------------------------------------------------


def test_detail_shows_status_holder_due_amount_words_lines_timeline(login, kit):
    voucher = kit.in_control()
    client = login("a_preparer")
    html = client.get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "Đang kiểm soát" in html
    officer = kit.user("officer")
    assert "Cán bộ kiểm soát".lower() in html.lower() and officer.get_full_name() in html  # who holds it now
    assert "Một triệu năm trăm nghìn đồng" in html
    assert 'class="timeline"' in html
    for label in ("Lập chứng từ", "Ký số", "Gửi kho bạc", "Nhận kiểm soát"):
        assert label in html
    assert "Hợp lệ" in html  # both signatures verified on the current content


def test_detail_is_404_for_another_unit_and_other_office(login, world, kit):
    voucher = kit.submitted()
    assert login("b_preparer").get(reverse("voucher-detail", args=[voucher.pk])).status_code == 404
    assert login("officer_b").get(reverse("voucher-detail", args=[voucher.pk])).status_code == 404
    assert login("officer").get(reverse("voucher-detail", args=[voucher.pk])).status_code == 200


def test_signature_verification_partial(login, kit, client):
    voucher = kit.submitted()
    response = login("officer").get(reverse("voucher-signatures", args=[voucher.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.count("badge-approved") == 2
    full = client.get(reverse("voucher-signatures", args=[voucher.pk])).content.decode()
    assert "<main" in full and voucher.content_hash in full


def test_attachment_download_is_permission_checked(login, kit):
    voucher = kit.draft()
    attachment = services.attachment_add(
        actor=kit.user("a_preparer"), voucher=voucher, file=Upload("hd.pdf", PDF), kind="invoice"
    )
    url = reverse("voucher-attachment", args=[voucher.pk, attachment.pk])
    response = login("a_chief").get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert 'filename="hd.pdf"' in response["Content-Disposition"]
    assert login("b_chief").get(url).status_code == 404
    missing = reverse("voucher-attachment", args=[voucher.pk, attachment.pk + 999])
    assert login("a_chief").get(missing).status_code == 404


# --- signing in the browser's place ------------------------------------------------------


def test_signing_requires_reauthentication_then_signs(login, kit):
    voucher = kit.draft()
    client = login("a_chief")
    url = reverse("voucher-sign", args=[voucher.pk])
    response = client.get(url)
    assert response.status_code == 302 and reverse("account_reauthenticate") in response["Location"]
    reauthenticate(client, "a_chief")
    html = client.get(url).content.decode()
    private, key = kit.keys["a_chief"]
    voucher.refresh_from_db()
    assert "data-sign" in html and f'data-content-hash="{voucher.content_hash}"' in html
    assert f'data-public-key="{key.public_key}"' in html
    signature = crypto.sign(private, bytes.fromhex(voucher.content_hash))
    response = client.post(url, {"key_id": key.pk, "signature": signature})
    assert response.status_code == 302
    assert voucher.signatures.get().role == "chief_accountant"


def test_signing_with_a_bad_signature_is_refused_clearly(login, kit):
    voucher = kit.draft()
    client = login("a_chief")
    reauthenticate(client, "a_chief")
    _private, key = kit.keys["a_chief"]
    other_private, _public = crypto.generate_keypair()
    voucher.refresh_from_db()
    bad = crypto.sign(other_private, bytes.fromhex(voucher.content_hash))
    response = client.post(reverse("voucher-sign", args=[voucher.pk]), {"key_id": key.pk, "signature": bad})
    assert response.status_code == 200 and "không hợp lệ" in response.content.decode()
    assert not voucher.signatures.exists()


def test_sign_page_is_404_for_another_units_signer_before_any_reauthentication(login, world, kit):
    voucher = kit.draft()
    Kit(world, prefix="b")
    assert login("b_chief").get(reverse("voucher-sign", args=[voucher.pk])).status_code == 404


# --- treasury actions ------------------------------------------------------------------


def test_officer_claims_returns_with_all_deficiencies_once(login, kit):
    voucher = kit.submitted()
    client = login("officer")
    html = client.get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "Nhận kiểm soát" in html
    assert client.post(reverse("voucher-claim", args=[voucher.pk]), {}).status_code == 302
    html = client.get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "chỉ được trả lại để bổ sung MỘT lần" in html
    assert "TL01" in html and "TL03" in html  # the whole catalogue, to list everything at once
    response = client.post(
        reverse("voucher-return", args=[voucher.pk]),
        {"return-codes": ["TL01", "TL03"], "return-note_TL01": "Bổ sung hợp đồng số 12", "return-note_TL03": ""},
    )
    assert response.status_code == 302
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.RETURNED
    assert [d["code"] for d in voucher.deficiencies] == ["TL01", "TL03"]
    unit_html = login("a_preparer").get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "Bổ sung hợp đồng số 12" in unit_html and "Sửa và bổ sung hồ sơ" in unit_html


def test_return_without_any_deficiency_is_refused_by_the_form(login, kit):
    voucher = kit.in_control()
    response = login("officer").post(reverse("voucher-return", args=[voucher.pk]), {})
    assert response.status_code == 400
    assert "ít nhất một" in response.content.decode()
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.IN_CONTROL


def test_second_return_is_refused_with_a_clear_message(login, kit):
    voucher = kit.returned()
    kit.sign_both(voucher)
    services.voucher_submit(actor=kit.user("a_holder"), voucher=voucher)
    services.voucher_claim(actor=kit.user("officer"), voucher=voucher)
    client = login("officer")
    html = client.get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "đã được trả lại bổ sung một lần" in html
    response = client.post(reverse("voucher-return", args=[voucher.pk]), {"return-codes": ["TL02"]})
    assert response.status_code == 409
    assert "chỉ được trả lại lần nữa khi lãnh đạo" in response.content.decode()
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.IN_CONTROL and voucher.return_count == 1


def test_approver_grants_an_exception_then_a_second_return_works(login, kit):
    voucher = kit.returned()
    kit.sign_both(voucher)
    services.voucher_submit(actor=kit.user("a_holder"), voucher=voucher)
    services.voucher_claim(actor=kit.user("officer"), voucher=voucher)
    response = login("approver").post(
        reverse("voucher-return-exception", args=[voucher.pk]),
        {"return_exception-justification": "Hồ sơ có tài liệu mới phát sinh sau lần trả lại."},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = login("officer").post(reverse("voucher-return", args=[voucher.pk]), {"return-codes": ["TL02"]})
    assert response.status_code == 302
    voucher.refresh_from_db()
    assert voucher.return_count == 2


def test_pass_needs_the_whole_checklist_then_approver_approves(login, kit):
    voucher = kit.in_control()
    client = login("officer")
    response = client.post(reverse("voucher-pass", args=[voucher.pk]), {"pass-checklist": ["CK01"]})
    assert response.status_code == 400 and "CK02" in response.content.decode()
    codes = [f"CK0{i}" for i in range(1, 6)]
    assert client.post(reverse("voucher-pass", args=[voucher.pk]), {"pass-checklist": codes}).status_code == 302
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.PENDING_APPROVAL
    html = login("approver").get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "Phê duyệt" in html
    assert login("approver").post(reverse("voucher-approve", args=[voucher.pk]), {"confirm": "1"}).status_code == 302
    voucher.refresh_from_db()
    assert voucher.status in (VoucherStatus.APPROVED, VoucherStatus.PAID)


def test_controller_cannot_approve_same_person(login, world, kit):
    from accounts.models import Role
    from accounts.services import membership_grant

    officer = world.users["officer"]
    membership_grant(user=officer, organisation=world.offices["0100"], role=Role.APPROVER)
    voucher = kit.pending()
    response = login("officer").post(reverse("voucher-approve", args=[voucher.pk]), {"confirm": "1"})
    assert response.status_code == 409
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.PENDING_APPROVAL


def test_refuse_with_coded_reasons(login, kit):
    voucher = kit.in_control()
    response = login("officer").post(
        reverse("voucher-refuse", args=[voucher.pk]), {"refuse-codes": ["TC02"], "refuse-note_TC02": "Ngoài dự toán"}
    )
    assert response.status_code == 302
    html = login("a_holder").get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "Lý do từ chối" in html and "Ngoài dự toán" in html
    assert "Đánh giá mức độ hài lòng" in html


def test_late_transition_asks_for_an_explanation(login, kit, monkeypatch):
    voucher = submitted_days_ago(kit, monkeypatch)
    client = login("officer")
    html = client.get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "Quá hạn" in html and "Giải trình chậm hạn" in html
    response = client.post(reverse("voucher-claim", args=[voucher.pk]), {})
    assert response.status_code == 400 and "giải trình" in response.content.decode()
    response = client.post(reverse("voucher-claim", args=[voucher.pk]), {"claim-explanation": "Nghỉ ốm đột xuất"})
    assert response.status_code == 302
    html = client.get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "Xử lý quá hạn" in html and "Nghỉ ốm đột xuất" in html  # the timeline keeps the explanation


def test_unit_submits_and_withdraws(login, kit):
    voucher = kit.draft()
    kit.sign_both(voucher)
    client = login("a_holder")
    assert client.post(reverse("voucher-submit", args=[voucher.pk]), {}).status_code == 302
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.SUBMITTED and voucher.receipt_number
    assert client.post(reverse("voucher-withdraw", args=[voucher.pk]), {}).status_code == 302
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.WITHDRAWN


def test_submit_without_signatures_is_refused_with_the_reason(login, kit):
    voucher = kit.draft()
    response = login("a_holder").post(reverse("voucher-submit", args=[voucher.pk]), {})
    assert response.status_code == 409 and "chưa đủ hai chữ ký" in response.content.decode()


def test_action_routes_refuse_other_roles_and_units(login, world, kit):
    voucher = kit.submitted()
    assert login("a_preparer").post(reverse("voucher-claim", args=[voucher.pk]), {}).status_code == 404
    assert login("officer_b").post(reverse("voucher-claim", args=[voucher.pk]), {}).status_code == 404
    assert login("officer").get(reverse("voucher-claim", args=[voucher.pk])).status_code == 405


def test_rating_once_closed(login, kit):
    voucher = kit.refused()
    client = login("a_preparer")
    response = client.post(reverse("voucher-rate", args=[voucher.pk]), {"rate-score": "4", "rate-comment": "Nhanh"})
    assert response.status_code == 302
    assert voucher.rating.score == 4


# --- review queue ------------------------------------------------------------------------


def test_queue_lists_oldest_due_first_with_text_badges(login, kit, monkeypatch):
    late = submitted_days_ago(kit, monkeypatch, amount=1_000_000)
    fresh = kit.submitted(2_000_000)
    html = login("officer").get(reverse("review-queue")).content.decode()
    assert html.index(late.receipt_number) < html.index(fresh.receipt_number)
    row = html[html.index(late.receipt_number) - 600 : html.index(late.receipt_number)]
    assert "badge-overdue" in row and "Quá hạn" in row  # said in words, not only by colour
    assert "1 chứng từ quá hạn" in html


def test_queue_scoped_to_offices_and_filters(login, world, kit):
    mine = kit.submitted()
    theirs = Kit(world, prefix="b").submitted()
    client = login("officer")
    html = client.get(reverse("review-queue")).content.decode()
    assert mine.receipt_number in html and theirs.receipt_number not in html
    html = client.get(reverse("review-queue"), {"status": "in_control"}).content.decode()
    assert mine.receipt_number not in html


def test_approver_queue_shows_pending_approval(login, kit):
    pending = kit.pending()
    submitted = kit.submitted()
    html = login("approver").get(reverse("review-queue")).content.decode()
    assert pending.receipt_number in html and submitted.receipt_number not in html


def test_queue_query_count_independent_of_page_size(login, kit, django_assert_max_num_queries):
    client = login("officer")
    kit.submitted(1_000)
    with django_assert_max_num_queries(15) as few:
        client.get(reverse("review-queue"))
    for i in range(6):
        kit.submitted(1_001 + i)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("review-queue"))
    assert response.content.decode().count("badge-submitted") == 7


def test_unit_users_have_no_queue(login, kit):
    assert login("a_preparer").get(reverse("review-queue")).status_code == 404


def test_queue_unit_filter_becomes_a_code_box_when_units_are_many(login, kit, monkeypatch):
    from vouchers import views

    monkeypatch.setattr(views, "UNIT_SELECT_LIMIT", 0)
    mine = kit.submitted()
    client = login("officer")
    html = client.get(reverse("review-queue")).content.decode()
    assert 'name="unit"' in html and 'inputmode="numeric"' in html and "<select name=\"unit\"" not in html
    assert mine.receipt_number in client.get(reverse("review-queue"), {"unit": "1012345"}).content.decode()
    assert mine.receipt_number not in client.get(reverse("review-queue"), {"unit": "1999999"}).content.decode()


def test_paid_voucher_shows_the_payments_result_section_and_rating(login, kit):
    voucher = kit.paid()
    html = login("a_holder").get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "payment-result-h" in html  # the payments result section (templates/payments/_voucher_result.html)
    assert "badge-paid" in html and "Đánh giá mức độ hài lòng" in html
    assert "Đã kết thúc xử lý" in html
