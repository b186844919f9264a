"""The leaders' revenue/expenditure summary (report kind `revenue`, issue 12):
revenue sums equal the collections, expenditure equals the paid movements of
the same offices and period, the balance and totals add up (fixed cases and
hypothesis), the scope, the files and the page in both languages."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import enrol_totp
from monitoring.reports import render, selectors
from monitoring.reports.selectors import ReportParams, report_rows, report_totals
from payments.models import BudgetMovement, RevenueCollection
from treasury_portal.errors import NotFound
from vouchers.selectors import local_today

pytestmark = pytest.mark.django_db


def _year() -> ReportParams:
    return ReportParams.default()


def collect(office, ref: str, amount: int, *, level: str = "2", chapter: str = "754", ndkt: str = "1052",  # noqa: ANN001
            day: date | None = None) -> RevenueCollection:
    return RevenueCollection.objects.create(
        office=office, reference=ref, collected_on=day or local_today(), budget_level=level, chapter=chapter,
        ndkt=ndkt, source="tax", amount=amount,
    )


@pytest.fixture
def money(world, kit, kit_b):  # noqa: ANN001, ANN201
    kit.paid(amount=1_500_000)  # unit 1012345 (office 0101), chapter 422, level 2, NDKT 7000
    kit.paid(amount=2_750_000, ndkt="6501")
    collect(world.offices["0101"], "A1", 10_000_000)
    collect(world.offices["0101"], "A2", 5_000_000)
    collect(world.offices["0101"], "A3", 700_000, level="1", chapter="757", ndkt="1003")
    collect(world.offices["0101"], "OLD", 999, day=local_today().replace(month=1, day=1) - timedelta(days=1))
    collect(world.offices["0201"], "B1", 4_000_000)
    return kit, kit_b


def test_revenue_sits_next_to_expenditure_of_the_same_office(world, money):
    rows = report_rows(world.users["tadmin"], "revenue", _year())
    by_key = {(r["office"], r["budget_level"][:1], r["chapter"], r["ndkt"]): r for r in rows}
    assert by_key[("0101", "2", "754", "1052")]["revenue_period"] == 15_000_000
    assert by_key[("0101", "1", "757", "1003")]["revenue_period"] == 700_000
    assert by_key[("0101", "2", "422", "7000")]["paid_period"] == 1_500_000
    assert by_key[("0101", "2", "422", "6501")]["paid_period"] == 2_750_000
    assert all(r["office"] != "0201" for r in rows), "another province's office"
    totals = report_totals("revenue", rows)
    assert totals["revenue_period"] == 15_700_000  # the collection before the period is not in it
    assert totals["paid_period"] == 4_250_000
    assert totals["balance"] == 15_700_000 - 4_250_000
    assert totals["percent_used"] == 4_250_000 * 1000 // 15_700_000
    assert by_key[("0101", "2", "754", "1052")]["balance"] == 15_000_000
    assert by_key[("0101", "2", "422", "7000")]["percent_used"] is None  # no revenue on that line


def test_scope_of_the_revenue(world, money):
    params = _year()
    b_rows = report_rows(world.users["officer_b"], "revenue", params)
    assert {r["office"] for r in b_rows} == {"0201"} and report_totals("revenue", b_rows)["revenue_period"] == 4_000_000
    # A unit's people: their unit's expenditure, no revenue (it belongs to the office).
    a_rows = report_rows(world.users["a_holder"], "revenue", params)
    assert a_rows and report_totals("revenue", a_rows)["revenue_period"] == 0
    # One unit asked for: its expenditure only.
    unit = ReportParams(params.fiscal_year, params.date_from, params.date_to, unit="1012345")
    assert report_totals("revenue", report_rows(world.users["tadmin"], "revenue", unit))["revenue_period"] == 0
    # One office: it and those below.
    office = ReportParams(params.fiscal_year, params.date_from, params.date_to, office="0101")
    assert report_totals("revenue", report_rows(world.users["tadmin"], "revenue", office))["revenue_period"] == (
        15_700_000)
    with pytest.raises(NotFound):
        report_rows(world.users["tadmin"], "revenue",
                    ReportParams(params.fiscal_year, params.date_from, params.date_to, office="0201"))


ROWS = st.lists(
    st.tuples(st.sampled_from(["1", "2", "3", "4"]), st.sampled_from(["754", "757"]),
              st.sampled_from(["1001", "1052", "2632"]), st.integers(min_value=1, max_value=10**12),
              st.integers(min_value=-40, max_value=3), st.sampled_from(["0100", "0101"])),
    max_size=15,
)
MOVES = st.lists(
    st.tuples(st.sampled_from(["7000", "6501"]), st.sampled_from(["spend", "autopay", "unspend"]),
              st.integers(min_value=1, max_value=10**11), st.integers(min_value=-40, max_value=3)),
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(collections=ROWS, moves=MOVES, back=st.integers(min_value=0, max_value=30))
def test_any_revenue_and_spending_sum_like_the_rows(world, kit, collections, moves, back):
    """Any collections and movements: revenue per group equals the sum of the
    collections in the period, paid equals the signed movements, the balance
    and the totals are the rows' sums, the percent the exact integer one."""
    tadmin = world.users["tadmin"]
    today = local_today()
    params = ReportParams(today.year, max(today - timedelta(days=back), today.replace(month=1, day=1)), today)
    start, end = selectors.period_bounds(params)
    with transaction.atomic():
        sid = transaction.savepoint_create()
        try:
            for i, (level, chapter, ndkt, amount, days, office) in enumerate(collections):
                collect(world.offices[office], f"H{i}", amount, level=level, chapter=chapter, ndkt=ndkt,
                        day=today + timedelta(days=days))
            for i, (ndkt, kind, amount, days) in enumerate(moves):
                m = BudgetMovement.objects.create(budget_line=kit.line(ndkt), kind=kind, amount=amount, key=f"h{i}")
                BudgetMovement.objects.filter(pk=m.pk).update(created_at=m.created_at + timedelta(days=days))
            rows = report_rows(tadmin, "revenue", params)
            expected_revenue: dict[tuple, int] = {}
            for level, chapter, ndkt, amount, days, office in collections:
                if params.date_from <= today + timedelta(days=days) <= params.date_to:
                    key = (office, level, chapter, ndkt)
                    expected_revenue[key] = expected_revenue.get(key, 0) + amount
            got_revenue = {(r["office"], r["budget_level"][:1], r["chapter"], r["ndkt"]): r["revenue_period"]
                           for r in rows if r["revenue_period"]}
            assert got_revenue == expected_revenue
            paid = sum((-1 if m.kind == "unspend" else 1) * m.amount
                       for m in BudgetMovement.objects.filter(budget_line__unit=kit.unit,
                                                              kind__in=["spend", "autopay", "unspend"])
                       if start <= m.created_at < end)
            totals = report_totals("revenue", rows)
            assert totals["paid_period"] == paid == sum(r["paid_period"] for r in rows)
            assert totals["revenue_period"] == sum(expected_revenue.values())
            assert totals["balance"] == totals["revenue_period"] - totals["paid_period"]
            for r in rows:
                assert r["balance"] == r["revenue_period"] - r["paid_period"]
                if r["revenue_period"] > 0:
                    t = r["percent_used"]
                    assert t * r["revenue_period"] <= r["paid_period"] * 1000 < (t + 1) * r["revenue_period"]
            assert [tuple(r[k] for k in selectors.REVENUE_KEYS) for r in rows] == sorted(
                tuple(r[k] for k in selectors.REVENUE_KEYS) for r in rows)
        finally:
            transaction.savepoint_rollback(sid)


def test_csv_and_xlsx_sum_right(world, money):
    from openpyxl import load_workbook

    rows = report_rows(world.users["tadmin"], "revenue", _year())
    keys = [k for k, _h, _t in selectors.COLUMNS["revenue"]]
    table = list(csv.reader(io.StringIO(render.to_csv("revenue", _year(), rows).decode("utf-8-sig"))))
    body, total = table[3:-1], table[-1]
    assert len(body) == len(rows)
    book = load_workbook(io.BytesIO(render.to_xlsx("revenue", _year(), rows)), read_only=True)
    values = list(book.active.iter_rows(values_only=True))
    for column in ("revenue_period", "paid_period", "balance"):
        i = keys.index(column)
        assert sum(int(r[i]) for r in body) == int(total[i]) == report_totals("revenue", rows)[column]
        assert sum(r[i] for r in values[3:-1]) == values[-1][i] == report_totals("revenue", rows)[column]


def test_pdf_and_english_headers(world, money):
    from django.utils import translation

    rows = report_rows(world.users["tadmin"], "revenue", _year())
    assert render.to_pdf("revenue", _year(), rows).startswith(b"%PDF")
    with translation.override("en"):
        rows_en = report_rows(world.users["tadmin"], "revenue", _year())
        table = list(csv.reader(io.StringIO(render.to_csv("revenue", _year(), rows_en).decode("utf-8-sig"))))
    assert "Revenue collected in the period" in table[2] and table[-1][0] == "Total"
    assert any(r[2] == "2 – Provincial" for r in table[3:-1])


def test_page_shows_totals_balance_and_chart_in_both_languages(client, world, money):
    user = world.users["tadmin"]
    enrol_totp(user)
    client.force_login(user)
    year = _year()
    query = {"kind": "revenue", "fiscal_year": year.fiscal_year, "date_from": year.date_from.isoformat(),
             "date_to": year.date_to.isoformat()}
    page = client.get(reverse("monitoring-reports"), query).content.decode()
    assert "Tổng thu ngân sách trong kỳ" in page and "15.700.000 ₫" in page and "11.450.000 ₫" in page
    assert "<svg" in page and "Xem số liệu dạng bảng" in page
    client.cookies["django_language"] = "en"
    page = client.get(reverse("monitoring-reports"), query, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Revenue collected in the period" in page and "15,700,000 VND" in page
    assert "Tổng thu ngân sách" not in page


def test_api_exports_the_revenue_report(world, money, django_capture_on_commit_callbacks):
    from conftest import api_client_for
    from monitoring.reports.models import ReportExport

    client = api_client_for(world.users["tadmin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/reports", {"kind": "revenue", "format": "csv",
                                                   "fiscal_year": _year().fiscal_year}, format="json")
    assert response.status_code == 202, response.content
    export = ReportExport.objects.get(pk=response.json()["id"])
    assert export.status == "done"
    data = b"".join(client.get(f"/api/v1/reports/{export.pk}/file").streaming_content).decode("utf-8-sig")
    assert "15700000" in data.replace(",", "")


def test_the_demo_seed_gives_the_summary_revenue(world):
    from payments.demo_revenue import ROWS, seed_revenue

    seed_revenue(world)
    seed_revenue(world)  # idempotent
    assert RevenueCollection.objects.count() == 2 * len(ROWS)
    rows = report_rows(world.users["tadmin"], "revenue", _year())
    assert report_totals("revenue", rows)["revenue_period"] > 0
