"""Races on PostgreSQL with real threads: many submissions against one budget
line never overspend; two officers claiming at once (one wins); two approvals at
once (one payment intent); the same Idempotency-Key 20 times at once (one
voucher); lines locked in one order (no deadlock). No request ends in a 5xx."""

import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connections
from django.db.models import Sum

from accounts.models import Role
from accounts.services import membership_grant
from payments.models import BudgetLine, BudgetMovement, PaymentIntent
from payments.services.budget import budget_allocate, budget_line_get_or_create
from tests.factories import UserFactory
from tests.postgres import needs_postgres
from treasury_portal.errors import ApplicationError
from vouchers import services
from vouchers.models import Voucher, VoucherEvent
from vouchers.tests.kit import Kit, seed

pytestmark = [
    pytest.mark.django_db(transaction=True),
    needs_postgres,
]


def run_at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Start every call at the same moment, each in its own thread and database
    connection; return each result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def worker(i: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    seed(world)
    return Kit(world)


def fresh_line(kit: Kit, allocated: int, programme: str) -> BudgetLine:
    line = budget_line_get_or_create(
        actor=None, unit=kit.unit, fiscal_year=kit.fiscal_year, chapter="422", sector="073", ndkt="7049",
        funding_source="13", programme=programme, budget_level="2",
    )
    budget_allocate(actor=None, budget_line=line, amount=allocated, key=f"race:{line.pk}")
    return line


def codes(results: list[object]) -> Counter:
    return Counter(r.code if isinstance(r, ApplicationError) else type(r).__name__ for r in results)


def test_many_submissions_never_overspend_one_line(kit, api):  # noqa: ANN001
    line = fresh_line(kit, 10_000_000, "00077")
    drafts = []
    for _ in range(16):
        voucher = kit.draft(1_000_000, lines=[{"budget_line": line.pk, "amount": 1_000_000}])
        kit.sign_both(voucher)
        drafts.append(voucher.pk)
    client = api("a_holder")
    responses = run_at_once([lambda pk=pk: client.post(f"/api/v1/vouchers/{pk}/submit", format="json")
                             for pk in drafts])
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 10, 409: 6}, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"insufficient_budget"}
    line.refresh_from_db()
    submitted = Voucher.objects.filter(pk__in=drafts, status="submitted")
    assert submitted.count() == 10
    assert line.reserved == submitted.aggregate(s=Sum("total_amount"))["s"] == 10_000_000
    assert line.reserved + line.spent <= line.allocated
    moved = dict(BudgetMovement.objects.filter(budget_line=line).values_list("kind").annotate(t=Sum("amount")))
    assert moved == {"allocate": 10_000_000, "reserve": 10_000_000}
    receipts = list(submitted.values_list("receipt_number", flat=True))
    assert len(set(receipts)) == 10  # gap-free and unique under concurrency


def test_vouchers_on_two_lines_in_opposite_order_do_not_deadlock(kit):  # noqa: ANN001
    one, two = fresh_line(kit, 50_000_000, "00078"), fresh_line(kit, 50_000_000, "00079")
    drafts = []
    for i in range(8):
        first, second = (one, two) if i % 2 else (two, one)
        voucher = kit.draft(lines=[{"budget_line": first.pk, "amount": 100_000},
                                   {"budget_line": second.pk, "amount": 200_000}])
        kit.sign_both(voucher)
        drafts.append(voucher.pk)
    holder = kit.user("a_holder")
    results = run_at_once([lambda pk=pk: services.voucher_submit(actor=holder, voucher=pk) for pk in drafts])
    assert all(isinstance(r, Voucher) for r in results), codes(results)
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.reserved, two.reserved) == (1_200_000, 1_200_000)


def test_two_officers_claim_at_once_one_wins(kit):  # noqa: ANN001
    for _ in range(3):
        voucher = kit.submitted()
        officers = [kit.user("officer"), kit.user("officer2")]
        results = run_at_once(
            [lambda o=o, pk=voucher.pk: services.voucher_claim(actor=o, voucher=pk) for o in officers]
        )
        assert codes(results) == {"Voucher": 1, "invalid_transition": 1}, codes(results)
        voucher.refresh_from_db()
        winner = next(r for r in results if isinstance(r, Voucher))
        assert voucher.status == "in_control" and voucher.controller_id == winner.controller_id
        assert VoucherEvent.objects.filter(voucher=voucher, action="claim").count() == 1


def test_two_approvals_at_once_write_one_payment_intent(kit):  # noqa: ANN001
    second = UserFactory(username="approver2")
    membership_grant(user=second, organisation=kit.world.offices["0100"], role=Role.APPROVER)
    voucher = kit.pending()
    approvers = [kit.user("approver"), second]
    results = run_at_once([lambda a=a: services.voucher_approve(actor=a, voucher=voucher.pk) for a in approvers])
    assert codes(results) == {"Voucher": 1, "invalid_transition": 1}, codes(results)
    assert PaymentIntent.objects.filter(voucher=voucher).count() == 1
    assert VoucherEvent.objects.filter(voucher=voucher, action="approve").count() == 1
    # The same approver twice at once (a double click): one approval, the repeat returns it.
    again = kit.pending()
    approver = kit.user("approver")
    results = run_at_once([lambda: services.voucher_approve(actor=approver, voucher=again.pk)] * 2)
    assert all(isinstance(r, Voucher) for r in results), codes(results)
    assert PaymentIntent.objects.filter(voucher=again).count() == 1
    assert VoucherEvent.objects.filter(voucher=again, action="approve").count() == 1


def test_the_same_idempotency_key_twenty_times_at_once_creates_one_voucher(kit, api):  # noqa: ANN001
    client = api("a_preparer")
    body = {
        "unit": "1012345", "procedure": "C2-02a/NS", "mode": "payment", "fiscal_year": kit.fiscal_year,
        "description": "Mua sách giáo khoa", "payee": {"name": "Nhà sách Vinh", "account_number": "0987654321",
                                                        "bank_code": "VCB"},
        "lines": [{"budget_line": kit.line().pk, "amount": 2_000_000}],
    }
    header = {"HTTP_IDEMPOTENCY_KEY": f"race-{uuid.uuid4()}"}
    before = Voucher.objects.count()
    responses = run_at_once([lambda: client.post("/api/v1/vouchers", body, format="json", **header)] * 20)
    assert all(not isinstance(r, Exception) for r in responses), responses
    assert {r.status_code for r in responses} == {201}
    # One body (the replays come from a jsonb column, so compare parsed JSON, not key order).
    assert len({json.dumps(r.json(), sort_keys=True) for r in responses}) == 1
    assert Voucher.objects.count() == before + 1
