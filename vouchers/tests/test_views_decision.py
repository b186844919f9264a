"""The reviewer's voucher page: the facts first (result downloads on a paid
voucher at the very top), then the decision; approval goes through a "check
your answers" page whose one button is the only way the page approves."""

import re

import pytest
from django.urls import reverse

from vouchers.models import VoucherStatus

pytestmark = pytest.mark.django_db


def _positions(html: str, *markers: str) -> list[int]:
    found = [html.find(m) for m in markers]
    assert all(p >= 0 for p in found), dict(zip(markers, found, strict=True))
    return found


def test_the_approver_reads_amount_payee_lines_documents_signatures_before_the_decision(login, kit):
    voucher = kit.pending(amount=2_750_000)
    html = login("approver").get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    order = _positions(
        html,
        'id="v-where"',
        "2.750.000 ₫",  # the amount in figures
        "Hai triệu bảy trăm năm mươi nghìn đồng",  # and in words
        "Công ty TNHH Văn phòng phẩm Hồng Hà",  # the payee
        "0123456789",  # and the account
        'id="v-att"',  # the documents
        'id="v-sig"',  # the signatures
        'id="v-actions"',  # then the decision
        'id="f-approve"',
        'id="v-timeline"',
    )
    assert order == sorted(order), order
    # The budget codes of the lines come before the decision too.
    assert html.find("Các dòng chi và mã phân loại ngân sách") < html.find('id="v-actions"')


def test_the_voucher_page_has_no_form_that_approves_only_a_link_to_the_check_page(login, kit):
    voucher = kit.pending()
    approve_url = reverse("voucher-approve", args=[voucher.pk])
    html = login("approver").get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    forms = re.findall(r"<form\b[^>]*>", html)
    assert forms and not [f for f in forms if approve_url in f], forms
    assert f'href="{approve_url}"' in html


def test_approval_asks_to_check_the_answers_then_one_button_confirms(login, kit):
    voucher = kit.pending(amount=2_750_000)
    client = login("approver")
    url = reverse("voucher-approve", args=[voucher.pk])
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Kiểm tra trước khi phê duyệt" in html and 'class="summary-list"' in html
    for fact in ("2.750.000 ₫", "Hai triệu bảy trăm năm mươi nghìn đồng", "Công ty TNHH Văn phòng phẩm Hồng Hà",
                 "0123456789", kit.line("7000").ndkt, "Hợp lệ"):
        assert fact in html, fact
    assert html.count('type="submit"') - html.count("Đổi ngôn ngữ") - html.count("Đăng xuất") == 1
    assert "Xác nhận phê duyệt" in html
    assert html.find('class="summary-list"') < html.find("Xác nhận phê duyệt")

    # A POST without the confirmation (an old form, a crafted request) shows the
    # check page again and approves nothing.
    again = client.post(url, {"approve-note": "Đồng ý"})
    assert again.status_code == 200 and "Xác nhận phê duyệt" in again.content.decode()
    assert "Đồng ý" in again.content.decode()  # the note is kept
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.PENDING_APPROVAL

    done = client.post(url, {"approve-note": "Đồng ý", "confirm": "1"})
    assert done.status_code == 302 and done["Location"] == reverse("voucher-detail", args=[voucher.pk])
    voucher.refresh_from_db()
    assert voucher.status in (VoucherStatus.APPROVED, VoucherStatus.PAID)
    # Once approved, the check page sends the approver back to the voucher.
    assert client.get(url).status_code == 302


def test_the_service_still_refuses_the_controller_on_the_confirmation(login, world, kit):
    from accounts.models import Role
    from accounts.services import membership_grant

    membership_grant(user=world.users["officer"], organisation=world.offices["0100"], role=Role.APPROVER)
    voucher = kit.pending()
    client = login("officer")
    url = reverse("voucher-approve", args=[voucher.pk])
    assert client.get(url).status_code == 302  # no can_* approve: no check page, no button
    response = client.post(url, {"confirm": "1"})
    html = response.content.decode()
    assert response.status_code == 409 and "Xác nhận phê duyệt" not in html
    assert 'role="alert"' in html
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.PENDING_APPROVAL


def test_check_page_is_404_for_another_office_and_other_roles(login, kit):
    voucher = kit.pending()
    url = reverse("voucher-approve", args=[voucher.pk])
    assert login("approver_b").get(url).status_code == 404
    assert login("officer").get(url).status_code == 404
    assert login("a_holder").post(url, {"confirm": "1"}).status_code == 404


def test_a_paid_voucher_offers_its_result_pdf_and_debit_advice_at_the_top(login, world):
    from payments.models import PaymentIntent
    from payments.tests.kit import Kit as PaymentKit
    from payments.tests.kit import seed_money
    from vouchers.payment.services import payment_intent_process

    seed_money(world)
    voucher = PaymentKit(world, "a").approved(2_300_000)
    payment_intent_process(intent_id=PaymentIntent.objects.get(voucher=voucher).pk, worker="test")
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.PAID
    html = login("a_holder").get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    result_url = reverse("voucher-result-pdf", args=[voucher.pk])
    order = _positions(html, 'id="payment-result-h"', result_url, "Giấy báo Nợ", 'id="v-where"', 'id="v-content"')
    assert order == sorted(order), order


def test_the_check_page_reads_in_english(kit):
    from tests.test_i18n import _english, _page, _untranslated_on

    voucher = kit.pending()
    page = _page(_english(kit.user("approver")), reverse("voucher-approve", args=[voucher.pk]))
    assert "Check before you approve" in page and "Confirm approval" in page and "When you confirm" in page
    assert _untranslated_on(page) == []


def test_a_failed_payment_and_its_retry_come_after_the_facts(login, kit):
    voucher = kit.payment_failed()
    html = login("tadmin").get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    order = _positions(html, 'id="v-where"', 'id="v-content"', 'id="v-sig"', 'id="payment-result-h"',
                       'id="v-timeline"')
    assert order == sorted(order), order
