"""The arithmetic of the leader dashboard as pure functions (no database, no
clock): working seconds between two instants on the working-day calendar,
percentiles as PostgreSQL's percentile_cont computes them, shares. The SQL of
monitoring.dashboard computes the same on PostgreSQL; on SQLite (`make run`)
the dashboard falls back to these. tests check one against the other."""

import math
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from vouchers.working_days import TZ, WorkCalendar

# Office hours of a working day, local time: 08:00–12:00 and 13:00–17:00 (8 hours).
OFFICE_PERIODS: tuple[tuple[time, time], ...] = ((time(8), time(12)), (time(13), time(17)))
WORKDAY_SECONDS = 8 * 3600


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def day_seconds_until(t: time) -> float:
    """Office seconds of a working day elapsed at local time-of-day `t`."""
    s = _seconds(t) + t.microsecond / 1_000_000
    return sum(min(max(s, _seconds(a)), _seconds(b)) - _seconds(a) for a, b in OFFICE_PERIODS)


def working_seconds(start: datetime, end: datetime, cal: WorkCalendar) -> float:
    """Office seconds on working days between two aware instants (0 when end <= start)."""
    if end <= start:
        return 0.0
    a, b = start.astimezone(TZ), end.astimezone(TZ)
    day: date = a.date()
    total = 0.0
    while day <= b.date():
        if cal.is_working_day(day):
            upto = day_seconds_until(b.timetz().replace(tzinfo=None)) if day == b.date() else WORKDAY_SECONDS
            since = day_seconds_until(a.timetz().replace(tzinfo=None)) if day == a.date() else 0
            total += upto - since
        day += timedelta(days=1)
    return total


def percentile_cont(values: Sequence[float], q: float) -> float | None:
    """The q-quantile with linear interpolation between the closest ranks (as
    PostgreSQL's percentile_cont); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def share(part: int, whole: int) -> float | None:
    """part / whole as a percentage with one decimal (None when whole is 0)."""
    if whole <= 0:
        return None
    return round(part * 100 / whole, 1)


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def histogram_percentile(buckets: Sequence[tuple[int, int]], q: float, width: float) -> float | None:
    """percentile_cont over values known only by their bucket (bucket b holds
    values in [b × width, (b + 1) × width)): each value is taken at its bucket's
    middle, so the result is within width / 2 of the exact one. `buckets`:
    (bucket, count) pairs in any order; None when they count nothing."""
    ordered = sorted((b, n) for b, n in buckets if n > 0)
    total = sum(n for _b, n in ordered)
    if total == 0:
        return None
    pos = q * (total - 1)
    low, high = math.floor(pos), math.ceil(pos)

    def value_at(rank: int) -> float:
        seen = 0
        for b, n in ordered:
            seen += n
            if rank < seen:
                return (b + 0.5) * width
        raise AssertionError("rank beyond the histogram")  # pragma: no cover

    a, c = value_at(low), value_at(high)
    return a + (c - a) * (pos - low)
