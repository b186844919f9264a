"""The reports: figures against a plain-Python reference (fixed cases and
hypothesis), the scope (a unit sees its own, treasury staff their offices'),
each export format opening and summing right, the PDF staying on its pages,
the task's progress, and the page and API journeys."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import api_client_for
from monitoring.reports import render, selectors, services
from monitoring.reports.models import ExportStatus, ReportExport
from monitoring.reports.selectors import ReportParams, percent_tenths, report_rows, report_totals
from payments.models import BudgetLine, BudgetMovement
from treasury_portal.errors import NotFound
from vouchers.selectors import local_today

pytestmark = pytest.mark.django_db

PAID = {"spend": 1, "autopay": 1, "unspend": -1}


def reference(user_lines: list[BudgetLine], params: ReportParams, kind: str) -> list[dict]:
    """The report computed the plain way: every line, every movement, in Python."""
    start, end = selectors.period_bounds(params)
    groups: dict[tuple, dict] = {}
    for line in user_lines:
        if line.fiscal_year != params.fiscal_year:
            continue
        unit, office = line.unit, line.unit.office
        if kind == "expenditure":
            key = (office.code, office.name, unit.code, unit.name, line.chapter, line.sector, line.ndkt,
                   line.funding_source)
        else:
            key = (office.code, office.name)
        g = groups.setdefault(key, {"allocated": 0, "reserved": 0, "paid_to_date": 0, "paid_period": 0,
                                    "units": set()})
        g["allocated"] += line.allocated
        g["reserved"] += line.reserved
        g["paid_to_date"] += line.spent
        g["units"].add(unit.pk)
        for m in BudgetMovement.objects.filter(budget_line=line):
            if m.kind in PAID and start <= m.created_at < end:
                g["paid_period"] += PAID[m.kind] * m.amount
    rows = []
    for key in sorted(groups):
        g = groups[key]
        if not (g["allocated"] or g["paid_to_date"] or g["paid_period"] or g["reserved"]):
            continue
        row = {"allocated": g["allocated"], "reserved": g["reserved"], "paid_to_date": g["paid_to_date"],
               "paid_period": g["paid_period"], "available": g["allocated"] - g["reserved"] - g["paid_to_date"],
               "percent_used": None if g["allocated"] <= 0 else g["paid_to_date"] * 1000 // g["allocated"]}
        if kind == "expenditure":
            row.update(zip(("office", "office_name", "unit", "unit_name", "chapter", "sector", "ndkt",
                            "funding_source"), key, strict=True))
        else:
            row.update(office=key[0], office_name=key[1], units=len(g["units"]))
        rows.append(row)
    return rows


def _this_year() -> ReportParams:
    return ReportParams.default()


@pytest.fixture
def spending(kit, kit_b):  # noqa: ANN001, ANN201
    """Paid vouchers of both units on several lines, a reserved one, a refused one."""
    kit.paid(amount=1_500_000)
    kit.paid(amount=2_750_000, ndkt="6501")
    kit.pending(amount=900_000, ndkt="6900")  # reserved, not paid
    from vouchers import services as voucher_services

    for amount, ndkt in ((3_333_333, "7000"), (125_000, "6601")):
        voucher = kit_b.approved(approver="approver_b", officer="officer_b", amount=amount, ndkt=ndkt)
        voucher_services.voucher_mark_paid(voucher=voucher)
    return kit, kit_b


@pytest.mark.parametrize("kind", ["expenditure", "summary"])
@pytest.mark.parametrize("username", ["a_holder", "officer", "tadmin", "b_preparer", "officer_b"])
def test_the_figures_match_the_reference_in_each_scope(world, spending, kind, username):
    user = world.users[username]
    visible = list(BudgetLine.objects.filter(selectors.unit_scope_q(user)).select_related("unit__office"))
    rows = report_rows(user, kind, _this_year())
    assert rows == reference(visible, _this_year(), kind)
    assert rows, "the scope has figures"
    units = {r.get("unit") for r in rows} if kind == "expenditure" else set()
    if username.startswith("a_") or username in {"officer", "tadmin"}:
        assert "1023456" not in units
    if username.endswith("_b"):
        assert "1012345" not in units


def test_paid_in_the_period_is_what_was_paid(world, spending):
    rows = {(r["unit"], r["ndkt"]): r for r in report_rows(world.users["officer"], "expenditure", _this_year())}
    assert rows[("1012345", "7000")]["paid_period"] == 1_500_000
    assert rows[("1012345", "6501")]["paid_period"] == 2_750_000
    assert rows[("1012345", "6900")]["paid_period"] == 0 and rows[("1012345", "6900")]["reserved"] == 900_000
    # A period that ended yesterday has none of today's payments.
    yesterday = local_today() - timedelta(days=1)
    before = ReportParams(_this_year().fiscal_year, yesterday - timedelta(days=5), yesterday)
    assert all(r["paid_period"] == 0 for r in report_rows(world.users["officer"], "expenditure", before))


def test_unit_and_office_filters_stay_inside_the_scope(world, spending):
    officer_b, a_holder = world.users["officer_b"], world.users["a_holder"]
    params = _this_year()
    only_b = ReportParams(params.fiscal_year, params.date_from, params.date_to, unit="1023456")
    assert {r["unit"] for r in report_rows(officer_b, "expenditure", only_b)} == {"1023456"}
    with pytest.raises(NotFound):
        report_rows(a_holder, "expenditure", only_b)
    office_b = ReportParams(params.fiscal_year, params.date_from, params.date_to, office="0201")
    assert {r["office"] for r in report_rows(officer_b, "summary", office_b)} == {"0201"}
    with pytest.raises(NotFound):
        report_rows(world.users["officer"], "summary", office_b)
    # A unit's people may name their own office: their own unit only.
    b_office = ReportParams(params.fiscal_year, params.date_from, params.date_to, office="0201")
    assert {r["unit"] for r in report_rows(world.users["b_holder"], "expenditure", b_office)} == {"1023456"}


MOVES = st.lists(
    st.tuples(st.sampled_from(["7000", "6501", "6601"]), st.sampled_from(["spend", "autopay", "unspend"]),
              st.integers(min_value=1, max_value=10**11), st.integers(min_value=-40, max_value=5)),
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=MOVES, back=st.integers(min_value=0, max_value=30))
def test_any_movements_sum_like_the_reference(world, kit, moves, back):
    """Movements of any kind, amount and day (written straight to the table, the
    lines' counters to match): the report equals the reference, the totals equal
    the rows' sums, and every percent is the exact integer one."""
    officer = world.users["officer"]
    today = local_today()
    params = ReportParams(today.year, max(today - timedelta(days=back), today.replace(month=1, day=1)), today)
    with transaction.atomic():
        sid = transaction.savepoint_create()
        try:
            for i, (ndkt, kind, amount, days) in enumerate(moves):
                line = kit.line(ndkt)
                BudgetLine.objects.filter(pk=line.pk).update(allocated=line.allocated + amount,
                                                             spent=line.spent + (amount if kind != "unspend" else 0))
                m = BudgetMovement.objects.create(budget_line=line, kind=kind, amount=amount, key=f"h:{i}:{ndkt}")
                BudgetMovement.objects.filter(pk=m.pk).update(created_at=m.created_at + timedelta(days=days))
            visible = list(BudgetLine.objects.filter(selectors.unit_scope_q(officer)).select_related("unit__office"))
            for kind in ("expenditure", "summary"):
                rows = report_rows(officer, kind, params)
                assert rows == reference(visible, params, kind)
                totals = report_totals(kind, rows)
                assert totals["paid_period"] == sum(r["paid_period"] for r in rows)
                assert totals["allocated"] == sum(r["allocated"] for r in rows)
        finally:  # each example starts from the same rows, even after a failed one
            transaction.savepoint_rollback(sid)


@given(part=st.integers(min_value=0, max_value=10**15), whole=st.integers(min_value=0, max_value=10**15))
def test_percent_in_tenths_is_exact(part, whole):
    tenths = percent_tenths(part, whole)
    if whole == 0:
        assert tenths is None
        return
    assert tenths * whole <= part * 1000 < (tenths + 1) * whole
    assert selectors.format_percent(tenths).endswith("%")


# --- the files -----------------------------------------------------------------------------------


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("kind", ["expenditure", "summary"])
def test_csv_opens_and_sums_right(world, spending, kind):
    rows = report_rows(world.users["tadmin"], kind, _this_year())
    table = _csv_rows(render.to_csv(kind, _this_year(), rows))
    header, body, total = table[2], table[3:-1], table[-1]
    assert len(body) == len(rows)
    for column in ("allocated", "paid_period", "paid_to_date"):
        index = [k for k, _h, _t in selectors.COLUMNS[kind]].index(column)
        assert sum(int(r[index]) for r in body) == int(total[index]) == report_totals(kind, rows)[column]
    assert header[0] in {"Kho bạc", "Mã kho bạc"}


def test_csv_cells_cannot_run_as_formulas(world, kit):
    line = kit.line("7000")
    line.unit.name = "=HYPERLINK(\"http://x\")"
    line.unit.save(update_fields=["name"])
    rows = report_rows(world.users["officer"], "expenditure", _this_year())
    text = render.to_csv("expenditure", _this_year(), rows).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


@pytest.mark.parametrize("kind", ["expenditure", "summary"])
def test_xlsx_opens_and_sums_right(world, spending, kind):
    from openpyxl import load_workbook

    rows = report_rows(world.users["tadmin"], kind, _this_year())
    book = load_workbook(io.BytesIO(render.to_xlsx(kind, _this_year(), rows)), read_only=True)
    values = list(book.active.iter_rows(values_only=True))
    body, total = values[3:-1], values[-1]
    assert len(body) == len(rows)
    keys = [k for k, _h, _t in selectors.COLUMNS[kind]]
    for column in ("allocated", "paid_period", "paid_to_date", "available"):
        index = keys.index(column)
        assert all(isinstance(r[index], int) for r in body)  # numbers, not text
        assert sum(r[index] for r in body) == total[index] == report_totals(kind, rows)[column]


def test_english_files_have_english_headers(world, spending):
    from django.utils import translation

    rows = report_rows(world.users["tadmin"], "summary", _this_year())
    with translation.override("en"):
        table = _csv_rows(render.to_csv("summary", _this_year(), rows))
    assert table[2][1] == "Treasury office name" and table[-1][0] == "Total"


def test_progress_is_reported_every_chunk(world, spending):
    rows = report_rows(world.users["tadmin"], "expenditure", _this_year())
    seen: list[int] = []
    render.to_csv("expenditure", _this_year(), rows, progress=seen.append, chunk=2)
    assert seen == [*range(2, len(rows) + 1, 2), len(rows)]


# --- the PDF stays on its pages (as every PDF of the portal: tests/test_pdf_layout.py) -----------


@pytest.fixture
def long_report(world, kit):  # noqa: ANN001, ANN201
    """A unit with the longest name and 60 lines of 999.999.999.999 đồng."""
    from tests.test_pdf_layout import LONG_OFFICE, LONG_UNIT

    unit = kit.unit
    unit.name = LONG_UNIT
    unit.save(update_fields=["name"])
    unit.office.name = LONG_OFFICE
    unit.office.save(update_fields=["name"])
    template = kit.line("7000")
    big = 999_999_999_999
    for i in range(60):
        BudgetLine.objects.create(
            unit=unit, fiscal_year=template.fiscal_year, chapter=template.chapter, sector=template.sector,
            ndkt=f"{8000 + i}", funding_source=template.funding_source, budget_level=template.budget_level,
            allocated=big * 3, spent=big * 2, reserved=big // 2,
        )
    return unit


@pytest.mark.skipif(__import__("shutil").which("pdftotext") is None, reason="poppler-utils is not installed")
@pytest.mark.parametrize("kind", ["expenditure", "summary"])
def test_the_pdf_stays_on_its_pages(world, long_report, kind):
    from tests.test_pdf_layout import assert_on_the_page
    from treasury_portal.money import amount

    rows = report_rows(world.users["tadmin"], kind, _this_year())
    data = render.to_pdf(kind, _this_year(), rows)
    totals = report_totals(kind, rows)
    expected = [amount(totals["allocated"]), amount(totals["paid_to_date"]), "Tổng cộng"]
    if kind == "expenditure":
        expected += ["1012345", "422.073.8059.13", amount(999_999_999_999 * 2)]
    assert_on_the_page(data, *expected)


# --- the export's life: request → task → file ---------------------------------------------------


def test_an_export_is_made_at_commit_with_its_file(world, spending, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        export = services.report_request(actor=world.users["officer"], kind="expenditure", fmt="xlsx",
                                         params=_this_year())
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE and export.rows_done == export.rows_total > 0
    assert export.file.name.endswith(".xlsx") and export.percent == 100
    assert services.report_generate(export.pk) == "skipped"  # safe to run twice


def test_a_lost_export_is_queued_again_by_the_sweep(world, spending):
    export = ReportExport.objects.create(requested_by=world.users["officer"], kind="summary", format="csv",
                                         params=_this_year().as_dict())
    from django.utils import timezone

    assert services.report_exports_sweep(now=timezone.now()) == 0  # too young
    assert services.report_exports_sweep(now=timezone.now() + timedelta(minutes=5)) == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE


def test_a_second_delivery_leaves_a_running_export_to_its_worker(world, spending):
    from django.utils import timezone

    export = ReportExport.objects.create(requested_by=world.users["officer"], kind="summary", format="csv",
                                         params=_this_year().as_dict(), status=ExportStatus.RUNNING,
                                         heartbeat_at=timezone.now())
    assert services.report_generate(export.pk) == "skipped"  # its worker is alive
    assert services.report_exports_sweep(now=timezone.now() + timedelta(minutes=5)) == 0
    export.refresh_from_db()
    assert export.status == ExportStatus.RUNNING and not export.file


def test_a_running_export_whose_worker_died_is_taken_over(world, spending):
    from django.utils import timezone

    long_ago = timezone.now() - services.STALE_AFTER - timedelta(seconds=1)
    export = ReportExport.objects.create(requested_by=world.users["officer"], kind="summary", format="csv",
                                         params=_this_year().as_dict(), status=ExportStatus.RUNNING,
                                         heartbeat_at=long_ago)
    assert services.report_exports_sweep(now=timezone.now()) == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE and export.file
    assert export.heartbeat_at > long_ago


def test_a_failed_export_says_so(world, spending, monkeypatch):
    def boom(*a, **k):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("disk full")

    monkeypatch.setattr(render, "to_pdf", boom)
    export = ReportExport.objects.create(requested_by=world.users["officer"], kind="summary", format="pdf",
                                         params=_this_year().as_dict())
    assert services.report_generate(export.pk) == ExportStatus.FAILED
    export.refresh_from_db()
    assert export.error == "RuntimeError" and not selectors.can_download(world.users["officer"], export)


# --- API --------------------------------------------------------------------------------------


def test_api_request_follow_and_download(world, spending, django_capture_on_commit_callbacks):
    client = api_client_for(world.users["officer"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/reports", {"kind": "expenditure", "format": "csv",
                                                   "fiscal_year": _this_year().fiscal_year}, format="json")
    assert response.status_code == 202, response.content
    pk = response.json()["id"]
    status = client.get(f"/api/v1/reports/{pk}").json()
    assert status["status"] == "done" and status["rows_done"] == status["rows_total"] > 0
    file = client.get(status["file_url"])
    assert file.status_code == 200 and file["Content-Type"].startswith("text/csv")
    body = _csv_rows(b"".join(file.streaming_content))
    rows = report_rows(world.users["officer"], "expenditure", _this_year())
    assert int(body[-1][8]) == report_totals("expenditure", rows)["paid_period"]
    # Someone else's export is a 404, even in the same office.
    other = api_client_for(world.users["approver"])
    assert other.get(f"/api/v1/reports/{pk}").status_code == 404
    assert other.get(f"/api/v1/reports/{pk}/file").status_code == 404
    assert pk not in [r["id"] for r in other.get("/api/v1/reports").json()["results"]]


def test_api_refuses_a_unit_outside_the_scope_and_a_file_not_ready(world, spending):
    client = api_client_for(world.users["a_holder"])
    response = client.post("/api/v1/reports", {"kind": "summary", "format": "pdf", "fiscal_year": 2026,
                                               "unit": "1023456"}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert client.post("/api/v1/reports", {"kind": "summary", "format": "doc", "fiscal_year": 2026},
                       format="json").status_code == 400
    export = ReportExport.objects.create(requested_by=world.users["a_holder"], kind="summary", format="csv",
                                         params=_this_year().as_dict())
    response = client.get(f"/api/v1/reports/{export.pk}/file")
    assert response.status_code == 409 and response.json()["code"] == "report_not_ready"


# --- pages ------------------------------------------------------------------------------------


def test_the_page_shows_the_report_and_exports_it(world, spending, login, django_capture_on_commit_callbacks):
    client = login("officer")
    page = client.get(reverse("monitoring-reports")).content.decode()
    assert "Chi theo mục lục ngân sách" in page and "1012345" in page and "1023456" not in page
    year = _this_year()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("monitoring-report-create"), {
            "kind": "summary", "format": "pdf", "fiscal_year": year.fiscal_year,
            "date_from": year.date_from.isoformat(), "date_to": year.date_to.isoformat(), "unit": "", "office": "",
        })
    export = ReportExport.objects.get(requested_by=world.users["officer"])
    assert response.status_code == 302 and response["Location"] == reverse("monitoring-report", args=[export.pk])
    detail = client.get(response["Location"]).content.decode()
    assert reverse("monitoring-report-file", args=[export.pk]) in detail and "every 2s" not in detail
    file = client.get(reverse("monitoring-report-file", args=[export.pk]))
    assert file.status_code == 200 and b"".join(file.streaming_content).startswith(b"%PDF")


def test_the_status_fragment_polls_until_done(world, spending, login):
    export = ReportExport.objects.create(requested_by=world.users["officer"], kind="summary", format="csv",
                                         params=_this_year().as_dict(), rows_total=40, rows_done=10)
    client = login("officer")
    fragment = client.get(reverse("monitoring-report-status", args=[export.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in fragment and "10/40" in fragment and 'aria-valuenow="25"' in fragment
    services.report_generate(export.pk)
    fragment = client.get(reverse("monitoring-report-status", args=[export.pk])).content.decode()
    assert "hx-trigger" not in fragment and reverse("monitoring-report-file", args=[export.pk]) in fragment
    assert login("approver").get(reverse("monitoring-report-status", args=[export.pk])).status_code == 404


def test_the_page_in_english(world, spending, login):
    client = login("b_holder")
    client.cookies["django_language"] = "en"
    page = client.get(reverse("monitoring-reports"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Expenditure by budget classification" in page and "Chi theo mục lục" not in page


def test_a_bad_filter_is_a_form_error_not_a_crash(world, spending, login):
    client = login("officer")
    response = client.get(reverse("monitoring-reports"), {"kind": "expenditure", "fiscal_year": "2026",
                                                          "date_from": "2026-05-01", "date_to": "2026-01-01"})
    assert response.status_code == 200 and "Ngày kết thúc phải sau ngày bắt đầu" in response.content.decode()
