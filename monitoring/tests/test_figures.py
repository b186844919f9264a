"""The dashboard's arithmetic: working seconds, percentiles and shares, in
Python (monitoring.figures) and in PostgreSQL (monitoring.dashboard's SQL),
each against a plain reference."""

from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring import dashboard, figures
from vouchers.working_days import TZ, WorkCalendar

START = datetime(2026, 1, 1, tzinfo=TZ)
instants = st.integers(min_value=0, max_value=60 * 24 * 40).map(lambda m: START + timedelta(minutes=m))
days = st.integers(min_value=0, max_value=45).map(lambda n: date(2026, 1, 1) + timedelta(days=n))
calendars = st.builds(
    lambda h, m: WorkCalendar(holidays=frozenset(h), makeup_workdays=frozenset(m)),
    st.sets(days, max_size=6), st.sets(days, max_size=3),
)


def reference_seconds(start: datetime, end: datetime, cal: WorkCalendar) -> int:
    """Minute by minute: a minute counts when it lies in office hours of a working day."""
    total, t = 0, start
    while t < end:
        local = t.astimezone(TZ)
        in_hours = any(a <= local.time() < b for a, b in figures.OFFICE_PERIODS)
        total += 60 if cal.is_working_day(local.date()) and in_hours else 0
        t += timedelta(minutes=1)
    return total


@settings(max_examples=60, deadline=None)
@given(a=instants, b=instants, cal=calendars)
def test_working_seconds_match_a_minute_by_minute_count(a, b, cal):
    start, end = min(a, b), max(a, b)
    if (end - start) > timedelta(days=12):
        end = start + timedelta(days=12)
    assert figures.working_seconds(start, end, cal) == reference_seconds(start, end, cal)


def test_working_seconds_examples():
    cal = WorkCalendar(holidays=frozenset({date(2026, 1, 2)}))
    mon = datetime(2026, 1, 5, 9, 0, tzinfo=TZ)  # a Monday
    assert figures.working_seconds(mon, mon.replace(hour=15), cal) == 5 * 3600  # 9–12 and 13–15
    assert figures.working_seconds(mon.replace(hour=7), mon.replace(hour=18), cal) == 8 * 3600
    fri = datetime(2026, 1, 2, 9, tzinfo=TZ)  # a holiday, then the weekend
    assert figures.working_seconds(fri, mon, cal) == 3600  # Monday 8–9 only
    assert figures.working_seconds(mon, fri, cal) == 0


@settings(max_examples=200)
@given(values=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=50),
       q=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]))
def test_percentile_is_between_the_closest_ranks(values, q):
    ordered = sorted(values)
    p = figures.percentile_cont(values, q)
    pos = q * (len(ordered) - 1)
    assert ordered[int(pos)] <= p <= ordered[-1 if pos >= len(ordered) - 1 else int(pos) + 1] or p == ordered[-1]
    if pos == int(pos):
        assert p == ordered[int(pos)]
    assert figures.percentile_cont([], q) is None


@settings(max_examples=200)
@given(part=st.integers(min_value=0, max_value=10**6), extra=st.integers(min_value=0, max_value=10**6))
def test_share_is_a_percentage_with_one_decimal(part, extra):
    whole = part + extra
    s = figures.share(part, whole)
    if whole == 0:
        assert s is None
        return
    assert 0 <= s <= 100
    assert abs(s - part * 100 / whole) <= 0.05 + 1e-9
    assert figures.share(whole, whole) == 100.0


# --- the same in PostgreSQL ------------------------------------------------------------

needs_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL path is PostgreSQL's")


@needs_postgres
@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(instants, instants), min_size=1, max_size=8), cal=calendars)
def test_sql_working_seconds_equal_python(pairs, cal, monkeypatch):
    monkeypatch.setattr(dashboard, "work_calendar", lambda: cal)
    rows = [(min(a, b), max(a, b)) for a, b in pairs]
    joins, expr = dashboard.working_seconds_sql("v.r", "v.c")
    values = ", ".join(f"({i}, %(r{i})s::timestamptz, %(c{i})s::timestamptz)" for i in range(len(rows)))
    sql = f"WITH {dashboard._DAYS_CTE} SELECT {expr} FROM (VALUES {values}) AS v(i, r, c) {joins} ORDER BY v.i"  # noqa: S608
    params = dashboard.calendar_params(date(2025, 12, 1), date(2026, 3, 1))
    named = {f"r{i}": r for i, (r, _c) in enumerate(rows)} | {f"c{i}": c for i, (_r, c) in enumerate(rows)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params | named)
        got = [float(r[0]) for r in cursor.fetchall()]
    assert got == [figures.working_seconds(r, c, cal) for r, c in rows]


@needs_postgres
@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=40),
       q=st.sampled_from([0.5, 0.9]))
def test_sql_percentile_cont_equals_python(values, q):
    with connection.cursor() as cursor:
        cursor.execute("SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY x) FROM unnest(%s::float8[]) AS x",
                       [q, values])
        (got,) = cursor.fetchone()
    assert got == pytest.approx(figures.percentile_cont(values, q), abs=1e-6)


def test_day_seconds_until():
    assert figures.day_seconds_until(time(7)) == 0
    assert figures.day_seconds_until(time(12, 30)) == 4 * 3600
    assert figures.day_seconds_until(time(17, 30)) == figures.WORKDAY_SECONDS
