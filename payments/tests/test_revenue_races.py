"""Concurrent revenue batches (PostgreSQL, real transactions): the same
references sent twice at once are recorded once, and one batch says `created`
for each row, the other `existing`; a reference sent at once with two
contents is recorded once and the other batch is refused whole."""

import pytest

from payments.models import RevenueCollection
from payments.services.revenue import revenue_import
from tests.postgres import needs_postgres
from tests.test_voucher_races import run_at_once
from treasury_portal.errors import ApplicationError

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]


def _rows(prefix: str, n: int, amount: int = 1000) -> list[dict]:
    return [{"reference": f"{prefix}{i}", "collected_on": "2026-05-04", "budget_level": "2", "chapter": "754",
             "ndkt": "1052", "source": "tax", "amount": amount + i} for i in range(n)]


def test_the_same_batch_twice_at_once_is_recorded_once(world):
    officer, tadmin = world.users["officer"], world.users["tadmin"]
    rows = _rows("R", 50)
    results = run_at_once([lambda: revenue_import(actor=officer, office="0101", rows=rows),
                           lambda: revenue_import(actor=tadmin, office="0101", rows=rows)])
    assert all(isinstance(r, list) for r in results), results
    assert RevenueCollection.objects.count() == 50
    for i in range(50):
        assert sorted(r[i].status for r in results) == ["created", "existing"]


def test_one_reference_two_contents_at_once(world):
    officer, tadmin = world.users["officer"], world.users["tadmin"]
    results = run_at_once([
        lambda: revenue_import(actor=officer, office="0101", rows=_rows("S", 20, amount=1000) + _rows("A", 1)),
        lambda: revenue_import(actor=tadmin, office="0101", rows=_rows("S", 20, amount=5000) + _rows("B", 1)),
    ])
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(refused) == 1 and refused[0].code == "revenue_reference_conflict"
    assert RevenueCollection.objects.count() == 21  # the winner's 20 and its own extra row, nothing of the other
    assert RevenueCollection.objects.filter(reference__in=["A0", "B0"]).count() == 1
