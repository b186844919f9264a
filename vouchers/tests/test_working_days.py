"""Working-day arithmetic against the real Vietnamese calendar of the `holidays` library."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vouchers.working_days import (
    CUTOFF,
    OFFICE_CLOSE,
    TZ,
    WorkCalendar,
    add_working_days,
    due_at,
    effective_receipt_day,
    extend_due_for_pause,
    next_working_day,
    peak_processing_days,
    working_days_between,
)

YEARS = range(2025, 2030)
VN = holidays.country_holidays("VN", years=YEARS)
CAL = WorkCalendar(
    holidays=frozenset(VN),
    makeup_workdays=frozenset(d for d in VN.weekend_workdays if d.year in YEARS),
)
NEWER_RULE_PEAKS = [("12-25", "12-31"), ("01-25", "01-31")]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def test_library_facts_these_tests_rely_on() -> None:
    # Tết Đinh Mùi 2027: 29 Tết (Thu 4 Feb) to Mùng năm (Wed 10 Feb), weekend in between.
    tet_2027 = [date(2027, 2, 4) + timedelta(days=i) for i in range(7)]
    assert all(d in VN for d in tet_2027)
    assert date(2027, 2, 3) not in VN and date(2027, 2, 11) not in VN
    # 2026: Saturday 22 August is worked so that Monday 31 August joins National Day.
    assert date(2026, 8, 22) in CAL.makeup_workdays
    assert date(2026, 8, 31) in VN and date(2026, 9, 1) in VN and date(2026, 9, 2) in VN
    assert date(2027, 1, 1) in VN


class TestWorkCalendar:
    def test_weekdays_work_and_weekends_rest(self) -> None:
        cal = WorkCalendar()
        assert cal.is_working_day(date(2026, 3, 6))  # Friday
        assert not cal.is_working_day(date(2026, 3, 7))  # Saturday
        assert not cal.is_working_day(date(2026, 3, 8))  # Sunday

    def test_holiday_on_a_weekday_is_not_worked(self) -> None:
        assert not CAL.is_working_day(date(2026, 4, 30))

    def test_makeup_saturday_is_worked(self) -> None:
        assert CAL.is_working_day(date(2026, 8, 22))
        assert not CAL.is_working_day(date(2026, 8, 29))

    def test_makeup_day_wins_over_a_holiday_row(self) -> None:
        day = date(2026, 8, 22)
        cal = WorkCalendar(holidays=frozenset({day}), makeup_workdays=frozenset({day}))
        assert cal.is_working_day(day)


class TestEffectiveReceiptDay:
    def test_working_day_before_cutoff_counts_that_day(self) -> None:
        assert effective_receipt_day(local(2026, 3, 6, 9, 0), CAL) == date(2026, 3, 6)

    def test_exactly_at_cutoff_is_on_time(self) -> None:
        received = datetime.combine(date(2026, 3, 6), CUTOFF, tzinfo=TZ)
        assert effective_receipt_day(received, CAL) == date(2026, 3, 6)

    def test_one_second_after_cutoff_counts_from_next_working_day(self) -> None:
        assert effective_receipt_day(local(2026, 3, 6, 16, 30, 1), CAL) == date(2026, 3, 9)

    def test_weekend_receipt_counts_from_monday(self) -> None:
        assert effective_receipt_day(local(2026, 3, 7, 10, 0), CAL) == date(2026, 3, 9)

    def test_makeup_saturday_receipt_counts_that_day(self) -> None:
        assert effective_receipt_day(local(2026, 8, 22, 10, 0), CAL) == date(2026, 8, 22)

    def test_local_time_decides_not_utc(self) -> None:
        # 09:45 UTC is 16:45 in Hà Nội: after the cut-off.
        received = datetime(2026, 3, 6, 9, 45, tzinfo=UTC)
        assert effective_receipt_day(received, CAL) == date(2026, 3, 9)
        # Sunday 20:00 UTC is already Monday 03:00 in Hà Nội.
        received = datetime(2026, 3, 8, 20, 0, tzinfo=UTC)
        assert effective_receipt_day(received, CAL) == date(2026, 3, 9)

    def test_after_cutoff_before_tet_counts_after_tet(self) -> None:
        assert effective_receipt_day(local(2027, 2, 3, 16, 45), CAL) == date(2027, 2, 11)

    def test_naive_datetime_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            effective_receipt_day(datetime(2026, 3, 6, 9, 0), CAL)


class TestAddWorkingDays:
    def test_zero_returns_the_day_itself_even_if_not_working(self) -> None:
        assert add_working_days(date(2026, 3, 7), 0, CAL) == date(2026, 3, 7)

    def test_skips_weekend(self) -> None:
        assert add_working_days(date(2026, 3, 6), 1, CAL) == date(2026, 3, 9)
        assert add_working_days(date(2026, 3, 6), 5, CAL) == date(2026, 3, 13)

    def test_skips_tet_2027(self) -> None:
        assert add_working_days(date(2027, 2, 3), 1, CAL) == date(2027, 2, 11)

    def test_crosses_year_end_and_new_year_holiday(self) -> None:
        assert add_working_days(date(2026, 12, 31), 1, CAL) == date(2027, 1, 4)

    def test_next_working_day(self) -> None:
        assert next_working_day(date(2026, 8, 21), CAL) == date(2026, 8, 22)
        assert next_working_day(date(2026, 8, 28), CAL) == date(2026, 9, 3)

    def test_negative_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            add_working_days(date(2026, 3, 6), -1, CAL)


class TestDueAt:
    def test_two_days_from_a_monday_morning(self) -> None:
        assert due_at(local(2026, 3, 9, 10, 0), 2, CAL) == local(2026, 3, 11, 17, 0)

    def test_due_is_aware_local_office_close(self) -> None:
        due = due_at(datetime(2026, 3, 9, 3, 0, tzinfo=UTC), 1, CAL)
        assert due.tzinfo == TZ and due.time() == OFFICE_CLOSE
        assert due == datetime(2026, 3, 10, 10, 0, tzinfo=UTC)

    def test_friday_after_cutoff_counts_from_monday(self) -> None:
        assert due_at(local(2026, 3, 6, 17, 0), 2, CAL) == local(2026, 3, 11, 17, 0)

    def test_makeup_saturday_is_a_processing_day(self) -> None:
        assert due_at(local(2026, 8, 21, 10, 0), 1, CAL) == local(2026, 8, 22, 17, 0)

    def test_national_day_2026_bridge(self) -> None:
        # Mon 31 Aug (swapped), Tue 1 and Wed 2 September are all off.
        assert due_at(local(2026, 8, 28, 10, 0), 1, CAL) == local(2026, 9, 3, 17, 0)

    def test_received_just_before_tet_2027(self) -> None:
        assert due_at(local(2027, 2, 3, 10, 0), 1, CAL) == local(2027, 2, 11, 17, 0)
        assert due_at(local(2027, 2, 3, 16, 45), 1, CAL) == local(2027, 2, 12, 17, 0)
        assert due_at(local(2027, 2, 5, 9, 0), 2, CAL) == local(2027, 2, 15, 17, 0)

    def test_year_end(self) -> None:
        assert due_at(local(2026, 12, 31, 10, 0), 1, CAL) == local(2027, 1, 4, 17, 0)
        assert due_at(local(2026, 12, 31, 16, 45), 1, CAL) == local(2027, 1, 5, 17, 0)

    def test_zero_days_means_same_day_close(self) -> None:
        assert due_at(local(2026, 3, 9, 8, 0), 0, CAL) == local(2026, 3, 9, 17, 0)

    def test_naive_and_negative_are_rejected(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            due_at(datetime(2026, 3, 9, 10, 0), 1, CAL)
        with pytest.raises(ValueError, match="negative"):
            due_at(local(2026, 3, 9, 10, 0), -1, CAL)


class TestWorkingDaysBetween:
    def test_half_open_interval(self) -> None:
        assert working_days_between(date(2026, 3, 9), date(2026, 3, 9), CAL) == 0
        assert working_days_between(date(2026, 3, 9), date(2026, 3, 10), CAL) == 1
        assert working_days_between(date(2026, 3, 9), date(2026, 3, 16), CAL) == 5

    def test_reversed_interval_is_empty(self) -> None:
        assert working_days_between(date(2026, 3, 16), date(2026, 3, 9), CAL) == 0

    def test_counts_makeup_saturday_and_skips_holidays(self) -> None:
        # Sat 22 Aug worked; Mon 24 – Fri 28 worked; 31 Aug, 1–2 Sep off; Thu 3 Sep worked.
        assert working_days_between(date(2026, 8, 21), date(2026, 9, 3), CAL) == 7

    def test_across_tet_2027(self) -> None:
        assert working_days_between(date(2027, 2, 3), date(2027, 2, 11), CAL) == 1


class TestExtendDueForPause:
    DUE = local(2026, 3, 11, 17, 0)  # Wednesday

    def test_pause_within_one_day_shifts_nothing(self) -> None:
        paused = (local(2026, 3, 9, 10, 0), local(2026, 3, 9, 15, 0))
        assert extend_due_for_pause(self.DUE, *paused, CAL) == self.DUE

    def test_two_working_days_with_the_unit(self) -> None:
        paused = (local(2026, 3, 9, 10, 0), local(2026, 3, 11, 9, 0))
        assert extend_due_for_pause(self.DUE, *paused, CAL) == local(2026, 3, 13, 17, 0)

    def test_resubmission_after_cutoff_counts_next_day(self) -> None:
        paused = (local(2026, 3, 9, 10, 0), local(2026, 3, 9, 16, 45))
        assert extend_due_for_pause(self.DUE, *paused, CAL) == local(2026, 3, 12, 17, 0)

    def test_weekend_during_pause_is_not_counted(self) -> None:
        due = local(2026, 3, 16, 17, 0)
        paused = (local(2026, 3, 13, 10, 0), local(2026, 3, 16, 9, 0))
        assert extend_due_for_pause(due, *paused, CAL) == local(2026, 3, 17, 17, 0)

    def test_shift_skips_tet_and_keeps_local_time_of_day(self) -> None:
        due = datetime(2027, 2, 3, 5, 0, tzinfo=UTC)  # 12:00 in Hà Nội
        paused = (local(2027, 2, 2, 9, 0), local(2027, 2, 3, 9, 0))
        assert extend_due_for_pause(due, *paused, CAL) == local(2027, 2, 11, 12, 0)

    def test_invalid_inputs(self) -> None:
        with pytest.raises(ValueError, match="earlier"):
            extend_due_for_pause(self.DUE, local(2026, 3, 10, 9), local(2026, 3, 9, 9), CAL)
        with pytest.raises(ValueError, match="timezone-aware"):
            extend_due_for_pause(self.DUE, datetime(2026, 3, 9, 9), local(2026, 3, 9, 10), CAL)
        with pytest.raises(ValueError, match="timezone-aware"):
            extend_due_for_pause(
                datetime(2026, 3, 11, 17), local(2026, 3, 9), local(2026, 3, 10), CAL
            )


class TestPeakProcessingDays:
    @pytest.mark.parametrize(
        ("receipt_day", "expected"),
        [
            (date(2026, 12, 24), 1),
            (date(2026, 12, 25), 2),
            (date(2026, 12, 31), 2),
            (date(2027, 1, 1), 1),
            (date(2027, 1, 24), 1),
            (date(2027, 1, 25), 2),
            (date(2027, 1, 31), 2),
            (date(2027, 2, 1), 1),
        ],
    )
    def test_newer_rule(self, receipt_day: date, expected: int) -> None:
        assert peak_processing_days(1, 2, NEWER_RULE_PEAKS, receipt_day) == expected

    def test_no_periods_means_base(self) -> None:
        assert peak_processing_days(1, 2, [], date(2026, 12, 28)) == 1

    def test_period_across_year_end(self) -> None:
        periods = [("12-20", "01-10")]
        assert peak_processing_days(1, 3, periods, date(2026, 12, 20)) == 3
        assert peak_processing_days(1, 3, periods, date(2027, 1, 10)) == 3
        assert peak_processing_days(1, 3, periods, date(2027, 1, 11)) == 1
        assert peak_processing_days(1, 3, periods, date(2026, 12, 19)) == 1

    def test_leap_day_bound(self) -> None:
        assert peak_processing_days(1, 2, [("02-29", "02-29")], date(2028, 2, 29)) == 2

    @pytest.mark.parametrize("bound", ["1225", "12-32", "02-30", "13-01", "2-05", "12-25 ", ""])
    def test_malformed_bounds_fail_on_any_day(self, bound: str) -> None:
        with pytest.raises(ValueError, match="period bound"):
            peak_processing_days(1, 2, [("01-01", "01-02"), ("12-25", bound)], date(2026, 1, 1))

    def test_combined_with_due_at_in_late_december(self) -> None:
        received = local(2026, 12, 28, 10, 0)
        days = peak_processing_days(1, 2, NEWER_RULE_PEAKS, effective_receipt_day(received, CAL))
        assert due_at(received, days, CAL) == local(2026, 12, 30, 17, 0)


receipts = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.sampled_from([TZ, UTC, ZoneInfo("America/New_York")]),
)


@given(receipts, st.integers(min_value=0, max_value=15))
def test_due_is_a_working_day_after_the_receipt(received_at: datetime, days: int) -> None:
    due = due_at(received_at, days, CAL)
    assert CAL.is_working_day(due.date())
    assert due.time() == OFFICE_CLOSE and due.tzinfo == TZ
    assert due > received_at
    start = effective_receipt_day(received_at, CAL)
    assert working_days_between(start, due.date(), CAL) == days


@given(
    st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)),
    st.integers(min_value=0, max_value=30),
)
def test_add_and_count_are_inverse(day: date, n: int) -> None:
    result = add_working_days(day, n, CAL)
    assert working_days_between(day, result, CAL) == n
    if n:
        assert CAL.is_working_day(result)


@given(receipts, st.integers(0, 5), st.timedeltas(timedelta(0), timedelta(days=20)))
def test_pause_never_brings_due_forward(received_at: datetime, days: int, gap: timedelta) -> None:
    due = due_at(received_at, days, CAL)
    paused_from = received_at + timedelta(hours=1)
    extended = extend_due_for_pause(due, paused_from, paused_from + gap, CAL)
    assert extended >= due
    assert CAL.is_working_day(extended.date())
    assert extended.timetz() == time(17, 0, tzinfo=TZ)
