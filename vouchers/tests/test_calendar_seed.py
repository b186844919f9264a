"""Calendar seed rows from the `holidays` library."""

from datetime import date

import pytest

from vouchers.calendar_seed import HOLIDAY, MAKEUP_WORKDAY, vietnam_calendar_rows
from vouchers.working_days import WorkCalendar


@pytest.fixture(scope="module")
def rows() -> list[tuple[date, str, str]]:
    return vietnam_calendar_rows([2026, 2027])


def by_date(rows: list[tuple[date, str, str]]) -> dict[date, tuple[str, str]]:
    return {day: (kind, name) for day, kind, name in rows}


def test_fixed_national_holidays_of_both_years(rows) -> None:
    days = by_date(rows)
    for year in (2026, 2027):
        for month, day in ((1, 1), (4, 30), (5, 1), (9, 2)):
            assert days[date(year, month, day)][0] == HOLIDAY, (year, month, day)
    assert days[date(2026, 1, 1)][1] == "Tết Dương lịch"
    assert days[date(2026, 9, 2)][1] == "Quốc khánh"


def test_lunar_new_year(rows) -> None:
    days = by_date(rows)
    # Tết Bính Ngọ: 17 February 2026; Tết Đinh Mùi: 6 February 2027.
    assert days[date(2026, 2, 17)] == (HOLIDAY, "Tết Nguyên Đán")
    assert days[date(2027, 2, 6)] == (HOLIDAY, "Tết Nguyên Đán")
    tet_2026 = [date(2026, 2, d) for d in range(16, 21)]
    tet_2027 = [date(2027, 2, d) for d in range(4, 11)]
    assert all(days[d][0] == HOLIDAY for d in tet_2026 + tet_2027)


def test_observed_and_swapped_days_are_holidays(rows) -> None:
    days = by_date(rows)
    assert days[date(2026, 4, 27)][0] == HOLIDAY  # Hùng Kings on Sunday 26/4, observed Monday
    assert days[date(2027, 5, 3)][0] == HOLIDAY  # Labour Day on Saturday 1/5, observed Monday
    assert days[date(2026, 8, 31)][0] == HOLIDAY  # swapped with Saturday 22/8


def test_makeup_workdays_are_only_those_the_library_knows(rows) -> None:
    makeup = [day for day, kind, _ in rows if kind == MAKEUP_WORKDAY]
    assert makeup == [date(2026, 8, 22)]
    assert all(day.weekday() >= 5 for day in makeup)


def test_rows_are_valid_sorted_and_unique(rows) -> None:
    days = [day for day, _, _ in rows]
    assert days == sorted(days)
    assert len(days) == len(set(days))
    assert {kind for _, kind, _ in rows} == {HOLIDAY, MAKEUP_WORKDAY}
    assert all(name.strip() for _, _, name in rows)
    assert {day.year for day in days} == {2026, 2027}


def test_other_years_swaps_are_not_leaked() -> None:
    # The library knows a cross-year swap (work 27/12/2014 for 2/1/2015); it belongs to 2014.
    rows_2015 = vietnam_calendar_rows([2015])
    assert {day.year for day, _, _ in rows_2015} == {2015}
    assert (date(2014, 12, 27), MAKEUP_WORKDAY) in {
        (d, k) for d, k, _ in vietnam_calendar_rows([2014])
    }
    assert date(2015, 1, 2) in {day for day, _, _ in rows_2015}


def test_no_years_no_rows() -> None:
    assert vietnam_calendar_rows([]) == []


def test_rows_feed_a_work_calendar(rows) -> None:
    cal = WorkCalendar(
        holidays=frozenset(d for d, k, _ in rows if k == HOLIDAY),
        makeup_workdays=frozenset(d for d, k, _ in rows if k == MAKEUP_WORKDAY),
    )
    assert cal.is_working_day(date(2026, 8, 22))
    assert not cal.is_working_day(date(2026, 8, 31))
    assert not cal.is_working_day(date(2027, 2, 10))
    assert cal.is_working_day(date(2027, 2, 11))
