"""Reports in Chromium: a leader opens the expenditure report, exports it as
Excel (the task makes it; the page follows its progress through htmx) and
downloads a workbook whose totals are the page's; an export still being made
shows its progress bar and turns into a download link by itself. Every page
is checked with axe and the CSP."""

import io

import pytest

from conftest import enrol_totp
from monitoring.reports import services
from monitoring.reports.models import ReportExport
from monitoring.reports.selectors import ReportParams, report_rows, report_totals
from tests.browser.test_voucher_journey import Journey
from vouchers.tests.kit import Kit, seed

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_export_journey(portal, world):
    from openpyxl import load_workbook

    seed(world)
    enrol_totp(world.users["approver"])
    Kit(world, "a").paid(amount=4_321_000)
    journey = Journey(portal, world)
    leader = journey.page("approver")

    journey.goto(leader, "/monitoring/reports/")
    table = leader.locator("main table").inner_text()
    assert "1012345" in table and "4.321.000" in table
    journey.click(leader, leader.get_by_role("button", name="Tải Excel (XLSX)"))
    export = ReportExport.objects.get(requested_by=world.users["approver"])
    leader.wait_for_selector("text=Tải tệp báo cáo")  # made by the task at commit (in-process here)
    leader.check_a11y()
    with leader.expect_download() as download:
        leader.get_by_role("link", name="Tải tệp báo cáo").click()
    data = download.value.path().read_bytes()
    values = list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))
    rows = report_rows(world.users["approver"], "expenditure", ReportParams.default())
    assert values[-1][8] == report_totals("expenditure", rows)["paid_period"] == 4_321_000
    assert export.pk

    # The summary by treasury office, through the filter form (its dates kept as the browser sends them).
    journey.goto(leader, "/monitoring/reports/")
    assert leader.locator("#id_date_from").input_value() == ReportParams.default().date_from.isoformat()
    leader.select_option("#id_kind", "summary")
    journey.click(leader, leader.get_by_role("button", name="Xem báo cáo"))
    assert "0101" in leader.locator("main table").inner_text()


def test_progress_turns_into_a_download(portal, world):
    seed(world)
    enrol_totp(world.users["officer"])
    Kit(world, "a").paid(amount=1_000_000)
    export = ReportExport.objects.create(requested_by=world.users["officer"], kind="summary", format="csv",
                                         params=ReportParams.default().as_dict(), rows_total=40, rows_done=10)
    journey = Journey(portal, world)
    officer = journey.page("officer")
    journey.goto(officer, f"/monitoring/reports/{export.pk}/")
    assert "10/40 dòng (25%)" in officer.locator("#export-status").inner_text()
    assert officer.locator("[role=progressbar]").get_attribute("aria-valuenow") == "25"
    services.report_generate(export.pk)  # the worker finishes it
    officer.wait_for_selector("text=Tải tệp báo cáo", timeout=10_000)  # the next poll (every 2 s)
    officer.check_a11y()
