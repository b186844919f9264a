"""Paying approved vouchers: one transaction, at most once, failures and retry,
the sweeper, bank files."""

import threading
from datetime import timedelta
from xml.etree import ElementTree as ET  # noqa: S405 - parses our own output only

import pytest
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from payments.models import (
    Account,
    BankFile,
    BudgetLine,
    Notification,
    NotificationKind,
    PaymentIntent,
    PaymentIntentStatus,
    Transfer,
    TransferKind,
)
from payments.pain001 import NAMESPACE
from payments.selectors.reconcile import reconcile
from payments.services import ledger
from payments.services.bank_files import bank_files_generate
from payments.tests.kit import Kit, seed_money
from tests.postgres import needs_postgres
from treasury_portal.errors import ApplicationError, NotFound, PermissionDenied
from vouchers.models import VoucherEvent, VoucherStatus
from vouchers.payment.services import payment_intent_process, payment_intents_sweep, payment_retry

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(world):
    seed_money(world)
    return Kit(world, "a")


def pay(voucher) -> PaymentIntent:
    intent = PaymentIntent.objects.get(voucher=voucher)
    payment_intent_process(intent_id=intent.pk, worker="test")
    intent.refresh_from_db()
    voucher.refresh_from_db()
    return intent


def test_approval_pays_on_commit_in_one_go(kit, django_capture_on_commit_callbacks):
    line = kit.line()
    estimate_before = kit.estimate.balance
    voucher = kit.pending(2_750_000)
    line.refresh_from_db()
    assert line.reserved == 2_750_000
    with django_capture_on_commit_callbacks(execute=True):
        kit.approve(voucher)
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.PAID
    intent = PaymentIntent.objects.get(voucher=voucher)
    assert intent.status == PaymentIntentStatus.SUCCEEDED
    assert intent.clearing_bank.code == "VCB"
    assert intent.attempts == 1
    (transfer,) = Transfer.objects.filter(voucher=voucher, kind=TransferKind.PAYMENT)
    assert transfer.debit_account.number == f"9523.2.{kit.unit.code}"
    assert transfer.credit_account.number == "3856.VCB"
    assert transfer.amount == 2_750_000
    assert transfer.counterparty_name.startswith("Công ty TNHH")
    assert kit.estimate.balance == estimate_before - 2_750_000
    line.refresh_from_db()
    assert (line.reserved, line.spent) == (0, 2_750_000)
    assert VoucherEvent.objects.filter(voucher=voucher, action="pay", to_status="paid").count() == 1
    # The account holder and chief accountant hear of the balance change, with the voucher number.
    balance_notes = Notification.objects.filter(kind=NotificationKind.BALANCE_CHANGE, voucher=voucher)
    assert {n.user.username for n in balance_notes} == {"a_holder", "a_chief"}
    note = balance_notes.first()
    assert note.data["amount"] == -2_750_000
    assert note.data["voucher_number"] == voucher.number
    assert note.data["balance"] == kit.estimate.balance
    # The preparer and the signers hear of "paid".
    status_notes = Notification.objects.filter(kind=NotificationKind.VOUCHER_STATUS, voucher=voucher,
                                               data__status="paid")
    assert {n.user.username for n in status_notes} == {"a_preparer", "a_chief", "a_holder"}
    report = reconcile()
    assert report.ok, report.problems


def test_a_repeat_or_a_stale_takeover_never_pays_twice(kit, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = kit.approved(1_000_000)
    intent = PaymentIntent.objects.get(voucher=voucher)
    # A duplicate delivery of the task: nothing to claim.
    assert payment_intent_process(intent_id=intent.pk, worker="dup") is None
    # Even if the intent's own bookkeeping were lost (back to pending), the
    # voucher row says paid and nothing more is posted.
    PaymentIntent.objects.filter(pk=intent.pk).update(status=PaymentIntentStatus.PENDING)
    again = payment_intent_process(intent_id=intent.pk, worker="late")
    assert again.status == PaymentIntentStatus.SUCCEEDED
    assert Transfer.objects.filter(voucher=voucher, kind=TransferKind.PAYMENT).count() == 1
    assert VoucherEvent.objects.filter(voucher=voucher, action="pay").count() == 1
    assert reconcile().ok


def test_deposit_order_pays_from_the_deposit_account(kit, django_capture_on_commit_callbacks):
    before = kit.deposit.balance
    line_before = BudgetLine.objects.get(pk=kit.line().pk)
    with django_capture_on_commit_callbacks(execute=True):
        voucher = kit.approved(4_000_000, from_deposit=True)
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.PAID
    (transfer,) = Transfer.objects.filter(voucher=voucher, kind=TransferKind.PAYMENT)
    assert transfer.debit_account == kit.deposit
    assert kit.deposit.balance == before - 4_000_000
    line = kit.line()
    assert (line.reserved, line.spent) == (line_before.reserved, line_before.spent)  # the budget is not touched
    assert reconcile().ok


def test_insufficient_deposit_fails_with_reason_and_retry_pays_once(
    kit, django_capture_on_commit_callbacks, drain_notifications
):
    voucher = kit.pending(6_000_000, from_deposit=True)
    # Meanwhile the account is drained (another debit of the unit's deposit).
    deposit = kit.deposit
    ledger.transfer_post(
        debit=deposit, credit=ledger.bank_clearing_account(voucher.payee_bank), amount=deposit.balance - 1_000,
        key="drain", kind=TransferKind.PAYMENT,
    )
    kit.approve(voucher)
    intent = pay(voucher)
    assert voucher.status == VoucherStatus.PAYMENT_FAILED
    assert intent.status == PaymentIntentStatus.FAILED
    assert intent.failure_code == "insufficient_balance"
    failed = VoucherEvent.objects.get(voucher=voucher, action="fail_payment")
    assert "không đủ" in failed.note and deposit.number in failed.note
    # Both sides see the reason: the unit's people are told.
    drain_notifications()
    told = Notification.objects.filter(voucher=voucher, data__status="payment_failed")
    assert {n.user.username for n in told} == {"a_preparer", "a_chief", "a_holder"}
    assert "không đủ" in told.first().body
    assert not Transfer.objects.filter(voucher=voucher).exists()
    assert reconcile().ok
    # Only treasury approvers/administrators over the unit may retry.
    for name in ("a_holder", "officer_b", "approver_b"):
        with pytest.raises(NotFound):
            payment_retry(actor=kit.user(name), voucher_id=voucher.pk)
    ledger.deposit_credit(actor=kit.user("tadmin"), account=deposit, amount=10_000_000, reference="top-up")
    with django_capture_on_commit_callbacks(execute=True):
        payment_retry(actor=kit.user("approver"), voucher_id=voucher.pk)
    voucher.refresh_from_db()
    intent.refresh_from_db()
    assert voucher.status == VoucherStatus.PAID
    assert intent.status == PaymentIntentStatus.SUCCEEDED and intent.attempts == 2
    assert Transfer.objects.filter(voucher=voucher, kind=TransferKind.PAYMENT).count() == 1
    with pytest.raises(ApplicationError) as exc:
        payment_retry(actor=kit.user("approver"), voucher_id=voucher.pk)
    assert exc.value.code == "invalid_transition"
    assert reconcile().ok


def test_sweeper_requeues_lost_tasks_and_dead_claims(kit, django_capture_on_commit_callbacks):
    lost = kit.approved(100_000)  # its on_commit task never ran (callbacks not executed)
    dead = kit.approved(200_000)
    PaymentIntent.objects.filter(voucher=dead).update(
        status=PaymentIntentStatus.PROCESSING, claimed_by="dead-worker",
        claimed_at=timezone.now() - timedelta(hours=1),
    )
    PaymentIntent.objects.filter(voucher=lost).update(updated_at=timezone.now() - timedelta(minutes=5))
    fresh = kit.approved(300_000)
    PaymentIntent.objects.filter(voucher=fresh).update(
        status=PaymentIntentStatus.PROCESSING, claimed_by="alive", claimed_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        requeued = payment_intents_sweep()
    assert set(requeued) == set(PaymentIntent.objects.filter(voucher__in=[lost, dead]).values_list("pk", flat=True))
    for v in (lost, dead):
        v.refresh_from_db()
        assert v.status == VoucherStatus.PAID
    fresh.refresh_from_db()
    assert fresh.status == VoucherStatus.APPROVED  # a live worker's claim is left alone
    assert reconcile().ok


def test_bank_file_gathers_payments_per_bank_and_settles_the_clearing(kit, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        v1 = kit.approved(1_100_000)
        v2 = kit.approved(2_200_000, payee={"name": "Công ty Điện lực Nghệ An", "account_number": "9988776655",
                                          "bank_code": "BIDV"})
        v3 = kit.approved(3_300_000)
    with pytest.raises(PermissionDenied):
        bank_files_generate(actor=kit.user("officer"))
    files = bank_files_generate(actor=kit.user("tadmin"))
    assert sorted(f.bank.code for f in files) == ["BIDV", "VCB"]
    vcb = next(f for f in files if f.bank.code == "VCB")
    assert vcb.transfer_count == 2 and vcb.control_sum == 4_400_000
    assert vcb.office.code == "0100"
    root = ET.fromstring(vcb.file.open("rb").read())  # noqa: S314 - our own output
    ns = {"p": NAMESPACE}
    ids = [e.text for e in root.findall(".//p:CdtTrfTxInf/p:PmtId/p:EndToEndId", ns)]
    assert ids == [v1.number, v3.number]
    assert root.find(".//p:GrpHdr/p:CtrlSum", ns).text == "4400000"
    assert Account.objects.get(number="3856.VCB").balance == 0
    assert Transfer.objects.get(key=f"bankfile:{vcb.pk}").amount == 4_400_000
    assert set(PaymentIntent.objects.filter(voucher__in=[v1, v3]).values_list("bank_file", flat=True)) == {vcb.pk}
    # Nothing is filed twice; another office's administrator files nothing of ours.
    assert bank_files_generate(actor=kit.user("tadmin")) == []
    assert bank_files_generate(actor=kit.user("tadmin_b")) == []
    assert BankFile.objects.count() == 2
    assert v2.number in BankFile.objects.get(bank__code="BIDV").file.open("rb").read().decode()
    assert reconcile().ok


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_racing_workers_pay_once(world):
    seed_money(world)
    kit = Kit(world, "a")
    voucher = kit.approved(5_000_000)  # transaction=True: the on_commit task already paid it eagerly…
    voucher.refresh_from_db()
    if voucher.status == VoucherStatus.PAID:
        # …so race on a second one whose task we hold back.
        from unittest import mock

        with mock.patch("vouchers.payment.services._queue_payment"):
            voucher = kit.approved(5_000_000)
    intent = PaymentIntent.objects.get(voucher=voucher)
    outcomes: list[str] = []

    def work(i: int) -> None:
        try:
            result = payment_intent_process(intent_id=intent.pk, worker=f"w{i}")
            outcomes.append("skipped" if result is None else result.status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    with override_settings(PAYMENT_INTENT_STALE_SECONDS=0):  # every worker may take over every claim
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(outcomes) == 6 and "succeeded" in outcomes
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.PAID
    assert Transfer.objects.filter(voucher=voucher, kind=TransferKind.PAYMENT).count() == 1
    assert VoucherEvent.objects.filter(voucher=voucher, action="pay").count() == 1
    assert reconcile().ok, reconcile().problems
