"""Seed rows for the working-day calendar, from the `holidays` library's Vietnam calendar.

The calendar is a table that treasury administrators edit: the Lunar New Year days and the
day swaps are decided by the government each year, often late. This module only proposes
the starting rows; it never invents dates the library does not know.

What `holidays` 0.109 provides for Vietnam (public category only):

* the statutory holidays (New Year, Tết, Hùng Kings, 30/4, 1/5, National Day and, from 2026,
  Vietnam Cultural Day 24/11), Lunar New Year computed from the lunisolar calendar;
* observed days ("nghỉ bù") when a holiday falls on a weekend, and the days off swapped
  from a working Saturday ("Ngày nghỉ (thay cho ngày …)");
* the working Saturdays of those swaps in `weekend_workdays` — known for 2024 (4 May),
  2025 (26 April) and 2026 (22 August), none for 2027 and later. For a year without such
  data no "makeup_workday" row is returned; administrators add them when decided.
"""

from datetime import date
from typing import Literal

import holidays

HOLIDAY = "holiday"
MAKEUP_WORKDAY = "makeup_workday"
# The library records which Saturdays are worked but not under any name.
MAKEUP_WORKDAY_NAME = "Ngày làm việc bù"

type CalendarKind = Literal["holiday", "makeup_workday"]
type CalendarRow = tuple[date, CalendarKind, str]


def vietnam_calendar_rows(years: list[int]) -> list[CalendarRow]:
    """(date, kind, name) rows for the given years, sorted by date, one row per date.

    Holidays that fall on a weekend are kept: the row documents the holiday, and its
    observed weekday appears as a row of its own.
    """
    wanted = set(years)
    if not wanted:
        return []
    calendar = holidays.country_holidays(
        "VN", years=sorted(wanted), categories=(holidays.PUBLIC,), language="vi"
    )
    rows: dict[date, CalendarRow] = {
        day: (day, HOLIDAY, name) for day, name in calendar.items() if day.year in wanted
    }
    # `weekend_workdays` also carries swaps of other years (e.g. 27/12/2014 for 2/1/2015),
    # so it is filtered to the requested years.
    for day in calendar.weekend_workdays:
        if day.year in wanted and day not in rows:
            rows[day] = (day, MAKEUP_WORKDAY, MAKEUP_WORKDAY_NAME)
    return [rows[day] for day in sorted(rows)]
