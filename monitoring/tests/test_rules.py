"""The rules as pure functions: each tried on its edges, the arithmetic ones
with hypothesis."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from monitoring import rules

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
amounts = st.integers(min_value=1, max_value=10**15)


def pay(vid: int, account: str = "0123456789", bank: int | None = 1, amount: int = 1_000_000,
        at: datetime = T0) -> rules.Payment:
    return rules.Payment(vid, account, bank, amount, at)


def test_duplicate_same_account_bank_and_amount_within_the_window():
    assert rules.is_possible_duplicate(pay(1), pay(2, at=T0 + timedelta(days=30)), 30)
    assert not rules.is_possible_duplicate(pay(1), pay(2, at=T0 + timedelta(days=30, seconds=1)), 30)
    assert not rules.is_possible_duplicate(pay(1), pay(2, amount=1_000_001), 30)
    assert not rules.is_possible_duplicate(pay(1), pay(2, bank=2), 30)
    assert not rules.is_possible_duplicate(pay(1), pay(2, account="0123456780"), 30)
    assert not rules.is_possible_duplicate(pay(1), pay(1), 30)  # itself
    assert not rules.is_possible_duplicate(pay(1, account=""), pay(2, account=""), 30)


def test_duplicate_ignores_spacing_and_case_of_the_account():
    assert rules.is_possible_duplicate(pay(1, account="0123 456-789"), pay(2, account="0123456789"), 30)
    assert rules.is_possible_duplicate(pay(1, account="ab12"), pay(2, account="AB12"), 30)


@given(amount=amounts, days=st.integers(0, 365), gap=st.integers(0, 400 * 86400))
def test_duplicate_is_symmetric_and_follows_the_window(amount, days, gap):  # noqa: ANN001
    a, b = pay(1, amount=amount), pay(2, amount=amount, at=T0 + timedelta(seconds=gap))
    assert rules.is_possible_duplicate(a, b, days) == rules.is_possible_duplicate(b, a, days)
    assert rules.is_possible_duplicate(a, b, days) == (gap <= days * 86400)


@given(a=amounts, b=amounts)
def test_different_amounts_are_never_duplicates(a, b):  # noqa: ANN001
    assert rules.is_possible_duplicate(pay(1, amount=a), pay(2, amount=b), 30) == (a == b)


def test_duplicate_hits_lists_only_the_matching_vouchers():
    hits = rules.duplicate_hits(pay(1), [pay(2), pay(3, amount=5), pay(4, at=T0 - timedelta(days=3))], 30)
    assert [h.voucher_id for h in hits] == [2, 4]


@given(seconds=st.floats(0, 10_000), items=st.integers(0, 100), floor=st.integers(0, 3600),
       per_item=st.integers(0, 600))
def test_passed_too_fast_below_the_plausible_minimum(seconds, items, floor, per_item):  # noqa: ANN001
    minimum = rules.plausible_minimum(items, floor, per_item)
    assert minimum >= floor and minimum >= per_item * items
    assert rules.passed_too_fast(seconds, items, floor, per_item) == (seconds < minimum)


def test_passed_too_fast_examples():
    assert rules.passed_too_fast(119, 0, 120, 30)
    assert not rules.passed_too_fast(120, 4, 120, 30)
    assert rules.passed_too_fast(149, 5, 120, 30)  # 5 items need 150 s


@given(allocated=st.integers(0, 10**15), used=st.integers(0, 10**15), percent=st.integers(0, 100))
def test_budget_above_is_exact_in_integers(allocated, used, percent):  # noqa: ANN001
    reserved = used // 3
    spent = used - reserved
    above = rules.budget_above(allocated, reserved, spent, percent)
    if allocated == 0:
        assert not above
    else:
        # the same as the exact rational comparison, no float rounding
        from fractions import Fraction

        assert above == (Fraction(used, allocated) > Fraction(percent, 100))
        assert rules.used_percent(allocated, reserved, spent) == used * 100 // allocated


def test_budget_threshold_edges():
    assert not rules.budget_above(1_000_000, 0, 900_000, 90)  # exactly 90 %: not above
    assert rules.budget_above(1_000_000, 1, 900_000, 90)
    assert rules.budget_above(10**15, 9 * 10**14, 1, 90)  # big figures stay exact


@given(count=st.integers(0, 20), allowed=st.integers(0, 5))
def test_returned_too_often(count, allowed):  # noqa: ANN001
    assert rules.returned_too_often(count, allowed) == (count > allowed)


def test_due_state():
    due = T0 + timedelta(hours=10)
    assert rules.due_state(T0, None, 8) == ""
    assert rules.due_state(T0, due, 8) == ""
    assert rules.due_state(T0 + timedelta(hours=2), due, 8) == "near"
    assert rules.due_state(due, due, 8) == "near"
    assert rules.due_state(due + timedelta(seconds=1), due, 8) == "overdue"


def test_param_falls_back_to_the_default_on_a_bad_value():
    assert rules.param({"days": "x"}, "duplicate_payment", "days") == 30
    assert rules.param({"days": 7}, "duplicate_payment", "days") == 7
    assert rules.param(None, "budget_high_use", "percent") == 90
