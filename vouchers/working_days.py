"""Working-day arithmetic for legal processing times ("no delays" in the "3 no" rule).

Pure functions over a `WorkCalendar` value, so they can be tested without a database: the
caller loads the holiday table that administrators edit and passes it in.

Day conventions used throughout:

* A dossier counts from its *effective receipt day*: the local (Asia/Ho_Chi_Minh) day it
  arrived, or the next working day when it arrived on a non-working day or after the
  16:30 cut-off. Exactly 16:30:00 is still on time.
* A processing time of N working days ends at office close (17:00) of the N-th working day
  after the effective receipt day; 0 days means the effective receipt day itself.
* A pause (voucher back with the unit) lasts from the effective day of the return to the
  effective day of the resubmission, both counted by the same cut-off rule; the working
  days in between push the due day forward.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CUTOFF = time(16, 30)
OFFICE_CLOSE = time(17, 0)

SATURDAY = 5
ONE_DAY = timedelta(days=1)
MONTH_DAY = re.compile(r"[0-9]{2}-[0-9]{2}")  # ASCII digits only: \d also matches other scripts


@dataclass(frozen=True)
class WorkCalendar:
    """Public holidays and government-set make-up working days (usually Saturdays)."""

    holidays: frozenset[date] = frozenset()
    makeup_workdays: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        # A make-up day wins even over a holiday row: the government decision that swaps
        # a day is more specific than the generic calendar.
        if day in self.makeup_workdays:
            return True
        return day.weekday() < SATURDAY and day not in self.holidays


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


def _require_non_negative(n: int, name: str) -> None:
    if n < 0:
        raise ValueError(f"{name} must not be negative, got {n}")


def next_working_day(day: date, cal: WorkCalendar) -> date:
    """The first working day strictly after `day`."""
    candidate = day + ONE_DAY
    while not cal.is_working_day(candidate):
        candidate += ONE_DAY
    return candidate


def effective_receipt_day(received_at: datetime, cal: WorkCalendar) -> date:
    """The working day from which a dossier received at `received_at` counts."""
    _require_aware(received_at, "received_at")
    local = received_at.astimezone(TZ)
    day = local.date()
    if cal.is_working_day(day) and local.time() <= CUTOFF:
        return day
    return next_working_day(day, cal)


def add_working_days(day: date, n: int, cal: WorkCalendar) -> date:
    """The n-th working day after `day` (n = 0 gives `day` itself, working or not)."""
    _require_non_negative(n, "n")
    for _ in range(n):
        day = next_working_day(day, cal)
    return day


def due_at(received_at: datetime, processing_days: int, cal: WorkCalendar) -> datetime:
    """Office close, local time, on the last working day of the processing time."""
    _require_non_negative(processing_days, "processing_days")
    due_day = add_working_days(effective_receipt_day(received_at, cal), processing_days, cal)
    return datetime.combine(due_day, OFFICE_CLOSE, tzinfo=TZ)


def _days_after(start: date, end: date) -> Iterable[date]:
    day = start + ONE_DAY
    while day <= end:
        yield day
        day += ONE_DAY


def working_days_between(start: date, end: date, cal: WorkCalendar) -> int:
    """Working days in the half-open interval (start, end]; 0 when end <= start."""
    return sum(1 for day in _days_after(start, end) if cal.is_working_day(day))


def extend_due_for_pause(
    due: datetime, paused_from: datetime, paused_to: datetime, cal: WorkCalendar
) -> datetime:
    """The due time after the clock stood still from `paused_from` to `paused_to`.

    The due day moves forward by the working days that passed while the voucher was with
    the unit, keeping the local time of day. A pause within one effective day (returned in
    the morning, back before the cut-off) costs the treasury nothing and shifts nothing.
    """
    for value, name in ((due, "due"), (paused_from, "paused_from"), (paused_to, "paused_to")):
        _require_aware(value, name)
    if paused_to < paused_from:
        raise ValueError("paused_to must not be earlier than paused_from")
    elapsed = working_days_between(
        effective_receipt_day(paused_from, cal), effective_receipt_day(paused_to, cal), cal
    )
    local_due = due.astimezone(TZ)
    new_day = add_working_days(local_due.date(), elapsed, cal)
    return datetime.combine(new_day, local_due.time(), tzinfo=TZ)


def _parse_month_day(text: str) -> tuple[int, int]:
    """Parse "MM-DD" into (month, day), checked against a leap year so "02-29" is allowed."""
    if not MONTH_DAY.fullmatch(text):
        raise ValueError(f"period bound must be 'MM-DD', got {text!r}")
    month, day = int(text[:2]), int(text[3:])
    try:
        date(2000, month, day)
    except ValueError as error:
        raise ValueError(f"period bound is not a calendar day: {text!r}") from error
    return month, day


def _in_period(month_day: tuple[int, int], first: tuple[int, int], last: tuple[int, int]) -> bool:
    if first <= last:
        return first <= month_day <= last
    # A period such as ("12-20", "01-10") runs across the year end.
    return month_day >= first or month_day <= last


def peak_processing_days(
    base_days: int,
    peak_days: int,
    peak_periods: list[tuple[str, str]],
    receipt_day: date,
) -> int:
    """Processing days for a receipt day under a rule with peak periods.

    `peak_periods` are inclusive ("MM-DD", "MM-DD") ranges that recur every year, e.g.
    [("12-25", "12-31"), ("01-25", "01-31")] for "1 working day, but 2 from 25 to
    31 December and from 25 to 31 January". Pass the effective receipt day.
    """
    _require_non_negative(base_days, "base_days")
    _require_non_negative(peak_days, "peak_days")
    # Every bound is parsed up front so a typo in the catalogue fails loudly on any day.
    periods = [(_parse_month_day(start), _parse_month_day(end)) for start, end in peak_periods]
    month_day = (receipt_day.month, receipt_day.day)
    if any(_in_period(month_day, first, last) for first, last in periods):
        return peak_days
    return base_days
