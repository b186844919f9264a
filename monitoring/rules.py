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
    "payee_account_changed": {"days": 90},
    "controller_approver_pair": {"days": 30, "percent": 60, "min_vouchers": 20},
    "autopay_anomaly": {"days": 2},
    "budget_warn": {"percent": 80},
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
    *[
        # The rules of monitoring/rule_checks.py (data migration 0005_more_rules).
        ("payee_account_changed", "Tài khoản người nhận thay đổi ngay trước khi thanh toán",
         "Payee's bank account changed shortly before a payment", "high", "unit", {"days": 90}),
        ("controller_approver_pair", "Một cặp kiểm soát – phê duyệt xử lý tỷ lệ chứng từ bất thường",
         "One controller–approver pair handles an unusual share of the vouchers", "medium", "treasury",
         {"days": 30, "percent": 60, "min_vouchers": 20}),
        ("autopay_anomaly", "Hóa đơn thanh toán tự động có số tiền bất thường",
         "Autopay invoice held for an unusual amount", "medium", "unit", {"days": 2}),
        ("budget_warn", "Dòng dự toán đã dùng trên 80%", "Budget line more than 80% used", "low", "unit",
         {"percent": 80}),
    ],
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


# --- payee's bank account changed shortly before a payment ------------------------------


@dataclass(frozen=True)
class PayeeUse:
    """A unit's payment to a payee: to which account at which bank, when."""

    voucher_id: int
    payee: str
    account: str
    bank_id: int | None
    at: datetime


def normal_payee(name: str) -> str:
    """"Công ty  TNHH Hồng Hà." and "công ty tnhh hồng hà" are the same payee."""
    return " ".join("".join(ch if ch.isalnum() else " " for ch in (name or "").casefold()).split())


def changed_account(current: PayeeUse, earlier: list[PayeeUse], days: int) -> PayeeUse | None:
    """The unit's latest earlier payment to the same payee within `days` before
    this one, when it went to another account or bank; None otherwise (a first
    payment to a payee, or the same account as last time)."""
    name = normal_payee(current.payee)
    same = [
        e for e in earlier
        if e.voucher_id != current.voucher_id and name and normal_payee(e.payee) == name
        and timedelta(0) <= current.at - e.at <= timedelta(days=days)
    ]
    if not same:
        return None
    latest = max(same, key=lambda e: (e.at, e.voucher_id))
    if (normal_account(latest.account), latest.bank_id) == (normal_account(current.account), current.bank_id):
        return None
    return latest


# --- one controller-approver pair handles an unusual share ------------------------------


def dominant_pairs(counts: dict[tuple[int, int], int], percent: int, min_vouchers: int) -> list[tuple]:
    """(pair, vouchers, total) for each (controller, approver) pair that handled
    strictly more than `percent` of an office's `total` vouchers, once the office
    has at least `min_vouchers` and more than one controller or approver (with
    one of each, every voucher goes through the same pair and that is no sign)."""
    total = sum(counts.values())
    controllers = {c for c, _a in counts}
    approvers = {a for _c, a in counts}
    if total < max(min_vouchers, 1) or (len(controllers) < 2 and len(approvers) < 2):
        return []
    return sorted((pair, n, total) for pair, n in counts.items() if n * 100 > percent * total)


# --- autopay anomalies --------------------------------------------------------------------


def is_autopay_anomaly(exception_code: str) -> bool:
    """Autopay held the invoice because its amount is far above the paid history."""
    return exception_code == "amount_anomaly"
