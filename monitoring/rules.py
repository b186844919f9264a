"""Each risk rule as a small pure function of plain facts and its thresholds
(RiskRule.params): no database, no clock. monitoring.services gathers the
facts and raises an Alert for each hit; tests/test_rules.py tries them."""

from dataclasses import dataclass
from datetime import datetime, timedelta

# The thresholds each rule's row starts with (the data migration seeds them;
# an administrator changes them in the admin). A missing key falls back here.
DEFAULTS: dict[str, dict[str, int]] = {
    "duplicate_payment": {"days": 30},
    "fast_checklist": {"min_seconds": 120, "seconds_per_item": 30},
    "budget_high_use": {"percent": 90},
    "second_return": {"max_returns": 1},
    "overdue": {"near_hours": 8},
}


# The rows the data migration (and services.rules_ensure, after a test flush) writes.
SEEDS = [
    # code, name_vi, name_en, severity, monitored, params
    ("duplicate_payment", "Có thể thanh toán trùng", "Possible duplicate payment", "high", "unit", {"days": 30}),
    ("fast_checklist", "Kiểm soát nhanh bất thường", "Checklist passed implausibly fast", "medium", "treasury",
     {"min_seconds": 120, "seconds_per_item": 30}),
    ("budget_high_use", "Dòng dự toán sắp dùng hết", "Budget line nearly used up", "medium", "unit",
     {"percent": 90}),
    ("second_return", "Trả lại bổ sung lần thứ hai", "Returned for supplement a second time", "medium", "treasury",
     {"max_returns": 1}),
    ("overdue", "Chứng từ quá hạn hoặc sắp đến hạn", "Voucher overdue or near its due time", "low", "treasury",
     {"near_hours": 8}),
]


def param(params: dict | None, code: str, name: str) -> int:
    value = (params or {}).get(name, DEFAULTS[code][name])
    try:
        return int(value)
    except (TypeError, ValueError):
        return DEFAULTS[code][name]


# --- possible duplicate payment ------------------------------------------------


@dataclass(frozen=True)
class Payment:
    """What a duplicate is judged on: who is paid, where, how much, when."""

    voucher_id: int
    account: str
    bank_id: int | None
    amount: int
    at: datetime


def normal_account(number: str) -> str:
    """"0123 456-789" and "0123456789" are the same account."""
    return "".join(ch for ch in (number or "") if ch.isalnum()).upper()


def is_possible_duplicate(a: Payment, b: Payment, days: int) -> bool:
    """Two vouchers pay the same account at the same bank the same amount within
    `days` of each other (whichever unit filed them)."""
    return (
        a.voucher_id != b.voucher_id
        and a.amount > 0
        and a.amount == b.amount
        and a.bank_id == b.bank_id
        and normal_account(a.account) != ""
        and normal_account(a.account) == normal_account(b.account)
        and abs(a.at - b.at) <= timedelta(days=days)
    )


def duplicate_hits(subject: Payment, others: list[Payment], days: int) -> list[Payment]:
    return [o for o in others if is_possible_duplicate(subject, o, days)]


# --- checklist passed too fast ----------------------------------------------------


def plausible_minimum(items: int, min_seconds: int, seconds_per_item: int) -> int:
    """The least time a control officer needs for a dossier of `items` checks."""
    return max(min_seconds, seconds_per_item * max(items, 0))


def passed_too_fast(seconds: float, items: int, min_seconds: int, seconds_per_item: int) -> bool:
    return seconds < plausible_minimum(items, min_seconds, seconds_per_item)


# --- budget line above its threshold ----------------------------------------------


def used_percent(allocated: int, reserved: int, spent: int) -> int:
    """The whole percent of the allocation reserved or spent (rounded down)."""
    if allocated <= 0:
        return 0
    return (reserved + spent) * 100 // allocated


def budget_above(allocated: int, reserved: int, spent: int, percent: int) -> bool:
    """Strictly above `percent` of the allocation is used (exact, in integers)."""
    return allocated > 0 and (reserved + spent) * 100 > percent * allocated


# --- second return --------------------------------------------------------------


def returned_too_often(return_count: int, max_returns: int) -> bool:
    """The "ask only once" rule allows `max_returns` returns; more is an exception."""
    return return_count > max_returns


# --- overdue or near due ---------------------------------------------------------


def due_state(now: datetime, due_at: datetime | None, near_hours: int) -> str:
    """"overdue" after the due time, "near" within `near_hours` of it, else ""."""
    if due_at is None:
        return ""
    if now > due_at:
        return "overdue"
    if due_at - now <= timedelta(hours=near_hours):
        return "near"
    return ""
