"""API v1 of the payments app: accounts, transactions, statements, deposits,
notifications, result PDFs, intents, retries, bank files."""

import io

import pytest
from pypdf import PdfReader

from payments.models import Document, DocumentKind, Notification, PaymentIntent, Transfer
from payments.tests.kit import Kit, seed_money
from vouchers.models import VoucherStatus
from vouchers.payment.services import payment_intent_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(world):
    seed_money(world)
    return Kit(world, "a")


def paid_voucher(kit, amount=3_000_000):
    voucher = kit.approved(amount)
    payment_intent_process(intent_id=PaymentIntent.objects.get(voucher=voucher).pk, worker="t")
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.PAID
    return voucher


def test_accounts_list_shows_only_the_users_units(kit, api, django_assert_max_num_queries):
    client = api("a_holder")
    with django_assert_max_num_queries(8):
        body = client.get("/api/v1/accounts").json()
    numbers = {row["number"] for row in body["results"]}
    assert numbers == {kit.estimate.number, kit.deposit.number}
    row = next(r for r in body["results"] if r["number"] == kit.deposit.number)
    assert row["balance"] == kit.deposit.balance and row["unit"] == "1012345" and row["kind"] == "deposit"
    # Treasury staff see their offices' units and the treasury's own accounts; never another office's units.
    officer_numbers = {r["number"] for r in api("officer").get("/api/v1/accounts?page_size=200").json()["results"]}
    assert kit.deposit.number in officer_numbers and "1112" in officer_numbers
    assert not any("1023456" in n for n in officer_numbers)
    assert api("evn_clerk").get("/api/v1/accounts").json()["results"] == []


def test_transactions_are_newest_first_with_balances(kit, api, django_assert_max_num_queries):
    voucher = paid_voucher(kit)
    url = f"/api/v1/accounts/{kit.estimate.pk}/transactions"
    client = api("a_chief")
    with django_assert_max_num_queries(8):
        rows = client.get(url).json()["results"]
    first = rows[0]
    assert first["direction"] == "debit" and first["signed_amount"] == -3_000_000
    assert first["voucher_number"] == voucher.number
    assert first["balance_after"] == kit.estimate.balance
    assert first["counterparty_name"] == voucher.payee_name
    assert all(r["direction"] == "credit" for r in rows[1:])  # the allocations
    assert api("b_holder").get(url).status_code == 404
    assert api("b_holder").get(url).json()["code"] == "not_found"


def test_statement_csv_and_pdf(kit, api):
    voucher = paid_voucher(kit)
    client = api("a_holder")
    csv_response = client.get(f"/api/v1/accounts/{kit.estimate.pk}/statement.csv")
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    text = csv_response.content.decode("utf-8-sig")
    assert voucher.number in text and "opening_balance" in text and f"closing_balance,{kit.estimate.balance}" in text
    pdf_response = client.get(f"/api/v1/accounts/{kit.estimate.pk}/statement.pdf")
    assert pdf_response.status_code == 200 and pdf_response.content.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(pdf_response.content)).pages[0].extract_text()
    assert kit.estimate.number in text and voucher.number in text
    assert api("b_holder").get(f"/api/v1/accounts/{kit.estimate.pk}/statement.csv").status_code == 404


def test_statement_period_is_checked(kit, api):
    client = api("a_holder")
    url = f"/api/v1/accounts/{kit.deposit.pk}/statement.pdf"
    assert client.get(url + "?from=2026-02-01&to=2026-01-01").json()["code"] == "validation_error"
    assert client.get(url + "?from=nonsense").json()["code"] == "validation_error"
    assert client.get(url + "?from=2020-01-01&to=2026-01-01").json()["code"] == "validation_error"
    ok = client.get(url + "?from=2026-01-01&to=2026-01-31")
    assert ok.status_code == 200 and ok.content.startswith(b"%PDF")


def test_result_pdf_only_once_paid_and_rendered_on_first_download(kit, api):
    voucher = kit.approved(4_400_000)
    url = f"/api/v1/vouchers/{voucher.pk}/result.pdf"
    assert api("a_holder").get(url).status_code == 404  # approved, not paid yet
    payment_intent_process(intent_id=PaymentIntent.objects.get(voucher=voucher).pk, worker="t")
    assert not Document.objects.filter(kind=DocumentKind.RESULT, voucher=voucher).exists()  # task not run here
    response = api("a_holder").get(url, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "Bốn triệu bốn trăm nghìn đồng" in PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert Document.objects.filter(kind=DocumentKind.RESULT, voucher=voucher).count() == 1
    assert api("officer").get(url).status_code == 200
    assert api("b_holder").get(url).status_code == 404
    assert api("officer_b").get(url).status_code == 404


def test_debit_advice_download(kit, api):
    voucher = paid_voucher(kit)
    transfer = Transfer.objects.get(voucher=voucher)
    response = api("a_holder").get(f"/api/v1/transfers/{transfer.pk}/debit-advice.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert api("b_chief").get(f"/api/v1/transfers/{transfer.pk}/debit-advice.pdf").status_code == 404


def test_notifications_unread_filter_and_read(kit, api, django_assert_max_num_queries, drain_notifications):
    paid_voucher(kit)
    drain_notifications()  # the voucher's status notices (its events are the outbox)
    client = api("a_holder")
    with django_assert_max_num_queries(8):
        unread = client.get("/api/v1/notifications?unread=1").json()["results"]
    assert unread and all(n["unread"] for n in unread)
    kinds = {n["kind"] for n in unread}
    assert kinds == {"balance_change", "voucher_status"}
    first = unread[0]
    response = client.post(f"/api/v1/notifications/{first['id']}/read")
    assert response.status_code == 200 and response.json()["unread"] is False
    again = client.post(f"/api/v1/notifications/{first['id']}/")
    assert again.status_code in (404, 405)
    left = client.get("/api/v1/notifications?unread=1").json()["results"]
    assert first["id"] not in {n["id"] for n in left}
    assert api("a_chief").post(f"/api/v1/notifications/{first['id']}/read").status_code == 404
    assert client.post("/api/v1/notifications/read-all").json()["marked"] == len(left)
    assert not Notification.objects.filter(user=kit.user("a_holder"), read_at__isnull=True).exists()


def test_deposit_api_for_administrators_with_idempotency(kit, api):
    url = f"/api/v1/accounts/{kit.deposit.pk}/deposits"
    body = {"amount": 7_000_000, "reference": "BIDV-778899", "depositor": "Sở Tài chính"}
    first = api("tadmin").post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="dep-1")
    assert first.status_code == 201 and first.json()["balance_after"] == kit.deposit.balance
    replay = api("tadmin").post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="dep-1")
    assert replay.json() == first.json() and replay["Idempotent-Replayed"] == "true"
    # The same bank reference again (another key) posts nothing more.
    second = api("tadmin").post(url, body, format="json")
    assert second.json()["id"] == first.json()["id"]
    assert api("tadmin").post(url, {"amount": 0, "reference": "x"}, format="json").status_code == 400
    assert api("a_holder").post(url, body, format="json").status_code == 404
    assert api("tadmin_b").post(url, body, format="json").status_code == 404
    assert api("officer").post(url, body, format="json").status_code == 404


def test_intents_retry_and_bank_files_for_the_treasury(kit, api):
    voucher = paid_voucher(kit, 1_500_000)
    intents = api("officer").get("/api/v1/payment-intents?status=succeeded").json()["results"]
    assert [i["voucher_number"] for i in intents] == [voucher.number]
    assert api("a_holder").get("/api/v1/payment-intents").status_code == 403
    assert api("officer_b").get("/api/v1/payment-intents").json()["results"] == []
    retry = api("approver").post(f"/api/v1/vouchers/{voucher.pk}/retry-payment")
    assert retry.status_code == 409 and retry.json()["code"] == "invalid_transition"
    assert api("officer").post("/api/v1/bank-files").status_code == 403
    created = api("tadmin").post("/api/v1/bank-files")
    assert created.status_code == 201
    (bank_file,) = created.json()
    assert bank_file["bank"] == "VCB" and bank_file["control_sum"] == 1_500_000
    listed = api("approver").get("/api/v1/bank-files").json()["results"]
    assert [f["id"] for f in listed] == [bank_file["id"]]
    download = api("officer").get(f"/api/v1/bank-files/{bank_file['id']}/download")
    assert download.status_code == 200 and voucher.number.encode() in download.content
    assert api("officer_b").get(f"/api/v1/bank-files/{bank_file['id']}/download").status_code == 404
