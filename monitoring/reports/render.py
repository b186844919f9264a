"""The report as a file: CSV (UTF-8 with a BOM, so spreadsheet programs read the
Vietnamese letters), XLSX (openpyxl, numbers as numbers) and PDF (WeasyPrint,
A4 as the portal's other PDFs: payments.pdf). Headers in the export's language;
amounts are integers of đồng; the last row is the totals. `progress(done)` is
called every `chunk` rows."""

import csv
import io
from collections.abc import Callable

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from monitoring.reports.models import ReportKind
from monitoring.reports.selectors import (
    COLUMNS,
    SUM_KINDS,
    ReportParams,
    format_percent,
    params_label,
    report_title,
    report_totals,
)


def _nothing(done: int) -> None:
    return None


def render(kind: str, fmt: str, params: ReportParams, rows: list[dict], *,
           progress: Callable[[int], None] = _nothing, chunk: int = 200) -> bytes:
    writer = {"csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf}[fmt]
    return writer(kind, params, rows, progress=progress, chunk=chunk)


def _safe_text(value: object) -> str:
    # A cell starting with = + - @ would be run as a formula by spreadsheet programs.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _percent_number(tenths: int | None) -> float | None:
    return None if tenths is None else tenths / 10


def to_csv(kind: str, params: ReportParams, rows: list[dict], *, progress: Callable[[int], None] = _nothing,
           chunk: int = 200) -> bytes:
    columns = COLUMNS[ReportKind(kind)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([report_title(kind)])
    writer.writerow([params_label(params)])
    writer.writerow([str(header) for _k, header, _t in columns])
    for index, row in enumerate(rows, 1):
        writer.writerow([_cell_csv(row.get(key), t) for key, _h, t in columns])
        if index % chunk == 0:
            progress(index)
    totals = report_totals(kind, rows)
    writer.writerow(_total_cells(columns, totals, csv_cell=True))
    progress(len(rows))
    return ("\ufeff" + out.getvalue()).encode()


def _cell_csv(value: object, kind: str) -> object:
    if kind == "percent":
        return "" if value is None else f"{value / 10:.1f}"
    if kind in SUM_KINDS:
        return value
    return _safe_text(value)


def _total_cells(columns: list, totals: dict, *, csv_cell: bool) -> list:
    cells: list[object] = []
    for index, (key, _h, t) in enumerate(columns):
        if index == 0:
            cells.append(_("Tổng cộng"))
        elif t in SUM_KINDS:
            cells.append(totals[key])
        elif t == "percent":
            value = totals.get(key)
            cells.append(("" if value is None else f"{value / 10:.1f}") if csv_cell else _percent_number(value))
        else:
            cells.append("")
    return cells


def to_xlsx(kind: str, params: ReportParams, rows: list[dict], *, progress: Callable[[int], None] = _nothing,
            chunk: int = 200) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    columns = COLUMNS[ReportKind(kind)]
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("Báo cáo")[:31])
    bold = Font(bold=True)

    def cells(values: list, *, strong: bool = False, kinds: list[str] | None = None) -> list:
        out = []
        for i, value in enumerate(values):
            cell = WriteOnlyCell(sheet, value=value)
            t = kinds[i] if kinds else "text"
            if t == "money" or t == "count":
                cell.number_format = "#,##0"
            elif t == "percent":
                cell.number_format = "0.0"
            if strong:
                cell.font = bold
            out.append(cell)
        return out

    kinds = [t for _k, _h, t in columns]
    sheet.append(cells([report_title(kind)], strong=True))
    sheet.append(cells([params_label(params)]))
    sheet.append(cells([str(h) for _k, h, _t in columns], strong=True))
    for index, row in enumerate(rows, 1):
        values = []
        for key, _h, t in columns:
            value = row.get(key)
            values.append(_percent_number(value) if t == "percent" else (value if t in SUM_KINDS else
                                                                          _safe_text(value)))
        sheet.append(cells(values, kinds=kinds))
        if index % chunk == 0:
            progress(index)
    sheet.append(cells(_total_cells(columns, report_totals(kind, rows), csv_cell=False), strong=True, kinds=kinds))
    progress(len(rows))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


LABEL_HEADERS = {
    ReportKind.EXPENDITURE: lambda: _("Mã phân loại (chương.loại-khoản.NDKT.nguồn)"),
    ReportKind.SUMMARY: lambda: _("Kho bạc"),
    ReportKind.REVENUE: lambda: _("Cấp ngân sách · chương.NDKT"),
}


def pdf_context(kind: str, params: ReportParams, rows: list[dict]) -> dict:
    """The PDF's rows, grouped under a heading per unit (expenditure) so the
    table fits an A4 page; amounts already formatted."""
    language = get_language() or "vi"
    columns = COLUMNS[ReportKind(kind)]
    money = [(key, str(h)) for key, h, t in columns if t == "money"]
    totals = report_totals(kind, rows)
    groups: list[dict] = []
    for row in rows:
        if kind == ReportKind.EXPENDITURE:
            heading = f"{row['unit']} – {row['unit_name']} ({_('Kho bạc')} {row['office']})"
            label = f"{row['chapter']}.{row['sector']}.{row['ndkt']}.{row['funding_source']}"
        elif kind == ReportKind.REVENUE:
            heading = f"{_('Kho bạc')} {row['office']} – {row['office_name']}"
            label = f"{row['budget_level']} · {row['chapter']}.{row['ndkt']}"
        else:
            heading = ""
            label = f"{row['office']} – {row['office_name']} ({row['units']} {_('đơn vị')})"
        if not groups or groups[-1]["heading"] != heading:
            groups.append({"heading": heading, "rows": []})
        groups[-1]["rows"].append({
            "label": label, "amounts": [row[key] for key, _h in money],
            "percent": format_percent(row["percent_used"], language),
        })
    return {
        "title": report_title(kind), "filters": params_label(params),
        "label_header": LABEL_HEADERS[ReportKind(kind)](),
        "money_headers": [h for _k, h in money],
        "percent_header": _("Tỷ lệ chi trên thu") if kind == ReportKind.REVENUE else _("Tỷ lệ đã chi"),
        "groups": groups, "totals": [totals[key] for key, _h in money],
        "total_percent": format_percent(totals["percent_used"], language),
        "generated_at": timezone.localtime(), "count": len(rows), "language": language[:2],
        "currency": "₫" if language.startswith("vi") else "VND",
    }


def to_pdf(kind: str, params: ReportParams, rows: list[dict], *, progress: Callable[[int], None] = _nothing,
           chunk: int = 200) -> bytes:
    from payments.pdf import html_to_pdf

    context = pdf_context(kind, params, rows)
    progress(len(rows) // 2)  # the rows are laid out; WeasyPrint takes the rest of the time
    data = html_to_pdf(render_to_string("monitoring/pdf/report.html", context))
    progress(len(rows))
    return data
