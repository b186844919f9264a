"""The double-entry ledger: accounts, transfers, deposits, reconcile."""

import threading
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connections, transaction

from payments import demo as payments_demo
from payments.models import (
    Account,
    AccountKind,
    Channel,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    NotificationKind,
    NotificationPreference,
    Transfer,
    TransferKind,
)
from payments.selectors.reconcile import reconcile
from payments.services import ledger
from tests.postgres import needs_postgres
from treasury_portal.errors import ApplicationError, NotFound, ValidationFailed
from vouchers import demo as vouchers_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def money(world):
    vouchers_demo.seed(world)
    payments_demo.seed(world)
    return world


def deposit_of(world, prefix="a") -> Account:
    return Account.objects.get(unit=world.units[prefix], kind=AccountKind.DEPOSIT)


def test_demo_opens_numbered_accounts_with_allocations_and_deposits(money):
    unit = money.units["a"]
    numbers = set(Account.objects.filter(unit=unit).values_list("number", flat=True))
    assert "3741.2.1012345.00000" in numbers or any(n.startswith("3741.") for n in numbers)
    estimate = Account.objects.get(unit=unit, kind=AccountKind.ESTIMATE)
    assert estimate.number == f"9523.{estimate.budget_level}.1012345"
    allocated = sum(unit.budget_lines.values_list("allocated", flat=True))
    assert allocated > 0
    assert estimate.balance == allocated
    assert deposit_of(money).balance == payments_demo.OPENING_DEPOSIT
    # Seeding again changes nothing.
    before = Transfer.objects.count()
    payments_demo.seed(money)
    assert Transfer.objects.count() == before
    assert reconcile().ok, reconcile().problems


def test_transfer_moves_both_balances_once_per_key(money):
    deposit = deposit_of(money)
    cash = ledger.treasury_cash_account()
    cash_before, dep_before = cash.balance, deposit.balance
    t1 = ledger.transfer_post(debit=cash, credit=deposit, amount=1_000, key="t:1", kind=TransferKind.DEPOSIT)
    t2 = ledger.transfer_post(debit=cash, credit=deposit, amount=1_000, key="t:1", kind=TransferKind.DEPOSIT)
    assert t1.pk == t2.pk
    deposit.refresh_from_db()
    cash.refresh_from_db()
    assert deposit.balance == dep_before + 1_000
    assert cash.balance == cash_before - 1_000  # the treasury's own side may go negative
    assert t1.credit_balance_after == deposit.balance
    assert t1.debit_balance_after == cash.balance
    with pytest.raises(ApplicationError) as exc:
        ledger.transfer_post(debit=cash, credit=deposit, amount=2_000, key="t:1", kind=TransferKind.DEPOSIT)
    assert exc.value.code == "idempotency_conflict"


def test_unit_account_never_below_zero(money):
    deposit = deposit_of(money)
    clearing = ledger.bank_clearing_account(money_bank())
    with pytest.raises(ApplicationError) as exc:
        ledger.transfer_post(
            debit=deposit, credit=clearing, amount=deposit.balance + 1, key="over", kind=TransferKind.PAYMENT
        )
    assert exc.value.code == "insufficient_balance"
    assert "3741." in exc.value.message
    deposit.refresh_from_db()
    assert deposit.balance == payments_demo.OPENING_DEPOSIT
    assert not Transfer.objects.filter(key="over").exists()
    # Exactly the balance is fine.
    ledger.transfer_post(debit=deposit, credit=clearing, amount=deposit.balance, key="all", kind=TransferKind.PAYMENT)
    deposit.refresh_from_db()
    assert deposit.balance == 0


def money_bank():
    from payments.models import Bank

    return Bank.objects.order_by("code").first()


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "100"])
def test_transfer_refuses_bad_amounts(money, amount):
    with pytest.raises(ValidationFailed):
        ledger.transfer_post(
            debit=ledger.treasury_cash_account(), credit=deposit_of(money), amount=amount, key="bad",
            kind=TransferKind.DEPOSIT,
        )


def test_database_backstops(money):
    deposit = deposit_of(money)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=deposit.pk).update(balance=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(
            key="zero", debit_account=ledger.treasury_cash_account(), credit_account=deposit, amount=0,
            kind=TransferKind.DEPOSIT,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(
            key="self", debit_account=deposit, credit_account=deposit, amount=5, kind=TransferKind.DEPOSIT
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(number="x-neg", name="x", kind=AccountKind.DEPOSIT, unit=money.units["a"],
                               allow_negative=True)


def test_deposit_notifies_holder_and_chief_through_every_channel(money, django_capture_on_commit_callbacks):
    deposit = deposit_of(money)
    holder, chief = money.users["a_holder"], money.users["a_chief"]
    NotificationPreference.objects.create(user=chief, kind=NotificationKind.BALANCE_CHANGE, channel=Channel.SMS,
                                          enabled=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        transfer = ledger.deposit_credit(
            actor=money.users["tadmin"], account=deposit, amount=2_500_000, reference="UNC-001",
            depositor="Sở Tài chính Nghệ An",
        )
    notes = Notification.objects.filter(kind=NotificationKind.BALANCE_CHANGE, data__transfer_id=transfer.pk)
    assert {n.user.username for n in notes} == {"a_holder", "a_chief"}
    note = notes.get(user=holder)
    assert note.data["amount"] == 2_500_000
    assert note.data["balance"] == payments_demo.OPENING_DEPOSIT + 2_500_000
    assert note.data["counterparty"] == "Sở Tài chính Nghệ An"
    assert "2.500.000" in note.body and "502.500.000" in note.body
    channels = set(NotificationDelivery.objects.filter(notification__in=notes).values_list(
        "notification__user__username", "channel"))
    assert channels == {("a_holder", "email"), ("a_holder", "sms"), ("a_chief", "email")}
    assert not NotificationDelivery.objects.filter(notification__in=notes, status=DeliveryStatus.PENDING).exists()
    assert sorted(m.to[0] for m in mail.outbox if "+2.500.000" in m.subject) == [chief.email, holder.email]
    # Nobody else of the unit (the preparer) hears of balances.
    assert not notes.filter(user=money.users["a_preparer"]).exists()


def test_deposit_needs_an_administrator_over_the_unit(money):
    with pytest.raises(NotFound):
        ledger.deposit_credit(actor=money.users["tadmin_b"], account=deposit_of(money), amount=5, reference="r1")
    with pytest.raises(NotFound):
        ledger.deposit_credit(actor=money.users["a_holder"], account=deposit_of(money), amount=5, reference="r2")
    with pytest.raises(ValidationFailed):
        ledger.deposit_credit(
            actor=money.users["tadmin"], account=Account.objects.get(unit=money.units["a"], kind="estimate"),
            amount=5, reference="r3",
        )


def test_deposit_csv_is_all_or_nothing_with_line_numbers(money):
    a, b = deposit_of(money, "a"), deposit_of(money, "b")
    bad = (
        "account,amount,reference,description\n"
        f"{a.number},1.000.000,CSV-1,Kinh phí\n"
        f"{b.number},5000,CSV-2,Đơn vị khác tỉnh\n"
        "3741.2.9999999.00000,10,CSV-3,\n"
        f"{a.number},-4,CSV-4,\n"
        f"{a.number},7,CSV-1,\n"
    )
    with pytest.raises(ValidationFailed) as exc:
        ledger.deposits_load_csv(actor=money.users["tadmin"], rows=bad.encode())
    rows = exc.value.fields["rows"]
    assert [r.split(":")[0] for r in rows] == ["Dòng 3", "Dòng 4", "Dòng 5", "Dòng 6"]
    assert Transfer.objects.filter(key__startswith="deposit:CSV").count() == 0
    good = "\ufeffaccount;amount;reference\n" f"{a.number};1.000.000;CSV-1\n" f"{a.number};250000;CSV-2\n"
    transfers = ledger.deposits_load_csv(actor=money.users["tadmin"], rows=good.encode())
    assert [t.amount for t in transfers] == [1_000_000, 250_000]
    again = ledger.deposits_load_csv(actor=money.users["tadmin"], rows=good.encode())
    assert [t.pk for t in again] == [t.pk for t in transfers]
    a.refresh_from_db()
    assert a.balance == payments_demo.OPENING_DEPOSIT + 1_250_000
    with pytest.raises(ValidationFailed):
        ledger.deposits_load_csv(actor=money.users["tadmin"], rows=b"amount,reference\n5,x\n")


def test_reconcile_command_clean_and_broken(money):
    out = StringIO()
    call_command("reconcile", stdout=out)
    assert "every invariant holds" in out.getvalue()
    deposit = deposit_of(money)
    # A deliberately broken cache: the balance no longer equals its transfers.
    Account.objects.filter(pk=deposit.pk).update(balance=deposit.balance + 7)
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("reconcile", stdout=out)
    assert exc.value.returncode == 1
    assert f"account {deposit.number}: cached balance" in out.getvalue()
    assert "balances add up to 7" in out.getvalue()


def test_reconcile_finds_budget_counters_off_their_movements(money):
    from payments.models import BudgetLine

    line = BudgetLine.objects.filter(unit=money.units["a"]).first()
    BudgetLine.objects.filter(pk=line.pk).update(allocated=line.allocated + 1)
    report = reconcile()
    assert not report.ok
    assert any(f"budget line {line.pk}" in p and "allocated" in p for p in report.problems)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_debits_never_overdraw(world):
    vouchers_demo.seed(world)
    payments_demo.seed(world)
    deposit = deposit_of(world)
    clearing = ledger.bank_clearing_account(money_bank())
    amount = payments_demo.OPENING_DEPOSIT // 8  # 12 tries, room for 8
    results: list[str] = []

    def pay(i: int) -> None:
        try:
            ledger.transfer_post(debit=deposit, credit=clearing, amount=amount, key=f"race:{i}",
                                 kind=TransferKind.PAYMENT)
            results.append("ok")
        except ApplicationError as exc:
            results.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 8
    assert results.count("insufficient_balance") == 4
    deposit.refresh_from_db()
    assert deposit.balance == 0
    assert reconcile().ok


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_of_one_key_post_once(world):
    vouchers_demo.seed(world)
    payments_demo.seed(world)
    deposit = deposit_of(world)
    cash = ledger.treasury_cash_account()
    ids: list[int] = []

    def post() -> None:
        try:
            ids.append(ledger.transfer_post(debit=cash, credit=deposit, amount=9, key="same",
                                            kind=TransferKind.DEPOSIT).pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1 and len(ids) == 6
    deposit.refresh_from_db()
    assert deposit.balance == payments_demo.OPENING_DEPOSIT + 9
    assert reconcile().ok
