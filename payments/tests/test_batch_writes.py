"""The set-based writers the batch jobs (autopay's run) call instead of
touching counters and balances themselves: budget_spend_many,
balances_move_many, accounts_lock, transfer_ids_reserve, transfers_post_many.
One conditional UPDATE per table; a row that may not move refuses the whole
batch; movements and transfers under their unique keys."""

from types import SimpleNamespace

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.models import Account, BudgetMovement, BudgetMovementKind, Transfer, TransferKind
from payments.services import ledger
from payments.services.budget import budget_spend_many
from payments.tests.kit import Kit, seed_money
from payments.tests.test_budget import fresh_line
from treasury_portal.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    seed_money(world)
    return Kit(world)


def test_budget_spend_many_spends_each_line_once_per_key(kit):
    a, b = fresh_line(kit, 1_000, "00101"), fresh_line(kit, 500, "00102")
    now = timezone.now()
    budget_spend_many(
        movements=[(a.pk, 300, "t:1", "x"), (a.pk, 200, "t:2", "y"), (b.pk, 500, "t:3", "z")],
        kind=BudgetMovementKind.AUTOPAY, now=now,
    )
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.spent, b.spent) == (500, 500)
    assert set(BudgetMovement.objects.filter(kind="autopay").values_list("key", "amount")) == {
        ("t:1", 300), ("t:2", 200), ("t:3", 500)
    }
    with pytest.raises(IntegrityError), transaction.atomic():  # a key spent twice
        budget_spend_many(movements=[(a.pk, 1, "t:1", "again")], kind=BudgetMovementKind.AUTOPAY, now=now)
    a.refresh_from_db()
    assert a.spent == 500


def test_budget_spend_many_refuses_the_whole_batch_when_one_line_lacks_room(kit):
    a, b = fresh_line(kit, 1_000, "00103"), fresh_line(kit, 100, "00104")
    with pytest.raises(ApplicationError) as err, transaction.atomic():
        budget_spend_many(
            movements=[(a.pk, 300, "u:1", ""), (b.pk, 101, "u:2", "")], kind=BudgetMovementKind.AUTOPAY,
            now=timezone.now(), refused_code="batch_refused",
        )
    assert err.value.code == "batch_refused" and err.value.http_status == 500
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.spent, b.spent) == (0, 0)
    assert not BudgetMovement.objects.filter(key__startswith="u:").exists()


def test_balances_move_many_never_takes_a_non_negative_account_below_zero(kit):
    deposit = kit.deposit
    start = deposit.balance
    with pytest.raises(ApplicationError), transaction.atomic():
        ledger.balances_move_many(deltas={deposit.pk: -(start + 1)})
    deposit.refresh_from_db()
    assert deposit.balance == start
    ledger.balances_move_many(deltas={deposit.pk: -start})
    deposit.refresh_from_db()
    assert deposit.balance == 0


def test_transfers_post_many_credits_and_inserts_the_transfers_with_the_balances_after(kit):
    debit = kit.deposit
    credit = Account.objects.exclude(pk=debit.pk).filter(allow_negative=True).order_by("pk").first()
    with transaction.atomic():
        balances = ledger.accounts_lock([debit.pk, credit.pk])
        ledger.balances_move_many(deltas={debit.pk: -700})
        ids = ledger.transfer_ids_reserve(2)
        now = timezone.now()
        transfers = [
            SimpleNamespace(
                pk=pk, key=f"many:{n}", debit_account_id=debit.pk, credit_account_id=credit.pk, amount=amount,
                description="", counterparty_name="", counterparty_account="",
                debit_balance_after=balances[debit.pk] - done, credit_balance_after=balances[credit.pk] + done,
                created_at=now,
            )
            for n, (pk, amount, done) in enumerate(zip(ids or [None, None], (300, 400), (300, 700), strict=True))
        ]
        ledger.transfers_post_many(transfers=transfers, credits={credit.pk: 700}, kind=TransferKind.AUTOPAY)
    rows = list(Transfer.objects.filter(key__startswith="many:").order_by("key").values_list("amount", "kind"))
    assert rows == [(300, "autopay"), (400, "autopay")]
    assert all(t.pk for t in transfers)
    debit.refresh_from_db(), credit.refresh_from_db()
    assert debit.balance == balances[debit.pk] - 700 and credit.balance == balances[credit.pk] + 700
    with pytest.raises(IntegrityError), transaction.atomic():  # the same keys again
        transfers[0].pk = None
        transfers[1].pk = None
        ledger.transfers_post_many(transfers=transfers, credits={credit.pk: 700}, kind=TransferKind.AUTOPAY)
