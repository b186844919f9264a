"""Pages of the reports: the report on the page (filters, the first rows, the
totals) with its export buttons, an export's page (its progress, polled by
htmx, then the download) and the file. Thin: form → selector / service."""

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import TREASURY_ROLES, UNIT_ROLES
from monitoring.reports import selectors, services
from monitoring.reports.forms import ReportExportForm, ReportFilterForm
from monitoring.reports.models import ReportKind
from treasury_portal import charts
from treasury_portal.errors import ApplicationError, NotFound
from treasury_portal.money import format_money
from treasury_portal.pages import role_required

ROLES = (*UNIT_ROLES, *TREASURY_ROLES)


def _choices(user: object) -> dict:
    return {"units": selectors.visible_unit_choices(user), "offices": selectors.visible_office_choices(user)}


def _params(data: dict) -> selectors.ReportParams:
    return selectors.ReportParams(
        fiscal_year=data["fiscal_year"], date_from=data["date_from"], date_to=data["date_to"],
        unit=data.get("unit") or "", office=data.get("office") or "",
    )


def _cell(value: object, kind: str) -> dict:
    if kind == "money":
        return {"text": format_money(value), "num": True}
    if kind == "percent":
        return {"text": selectors.format_percent(value, get_language() or "vi"), "num": True}
    return {"text": "" if value is None else str(value), "num": kind == "count"}


def _table(kind: str, rows: list[dict]) -> dict:
    columns = selectors.COLUMNS[ReportKind(kind)]
    totals = selectors.report_totals(kind, rows)
    total_cells = [
        _cell(totals.get(k), t) if t != "text" else {"text": "", "num": False} for k, _h, t in columns[1:]
    ]
    return {
        "columns": [{"header": h, "num": t != "text"} for _k, h, t in columns],
        "rows": [[_cell(row.get(k), t) for k, _h, t in columns] for row in rows[: selectors.PAGE_ROWS]],
        "totals": total_cells, "count": len(rows), "shown": min(len(rows), selectors.PAGE_ROWS),
    }


def _revenue_charts(rows: list[dict]) -> dict:
    """The revenue report's chart: revenue and expenditure of the period by
    budget level (server-rendered SVG with the figures as a table), and the
    totals with the balance."""
    levels = selectors.revenue_by_level(rows)
    bars = []
    for level in levels:
        bars.append(charts.Bar(_("Thu · %(level)s") % {"level": level["level"]}, level["revenue"], "ok"))
        bars.append(charts.Bar(_("Chi · %(level)s") % {"level": level["level"]}, level["paid"], "warn"))
    totals = selectors.report_totals(ReportKind.REVENUE, rows)
    chart = charts.bar_chart(
        "revenue-levels", _("Thu và chi trong kỳ theo cấp ngân sách"),
        _("Mỗi cấp ngân sách có hai thanh: số thu ngân sách và số đã chi trong kỳ."), bars, money=True,
        label_width=220,
    ) if bars else None
    return {"revenue_chart": chart, "revenue_totals": totals}


def _export_fields(data: dict) -> list[tuple[str, str]]:
    """The report's filters as the export form's hidden fields."""
    return [(name, "" if data.get(name) is None else str(data.get(name)))
            for name in ("kind", "fiscal_year", "date_from", "date_to", "unit", "office")]


@role_required(*ROLES)
def reports(request: HttpRequest) -> HttpResponse:
    default = selectors.ReportParams.default()
    initial = {"kind": ReportKind.EXPENDITURE, **default.as_dict()}
    form = ReportFilterForm(request.GET or initial, **_choices(request.user))
    context: dict = {"form": form, "exports": list(selectors.exports_of(request.user)[:10])}
    if form.is_valid():
        params = _params(form.cleaned_data)
        kind = form.cleaned_data["kind"]
        try:
            rows = selectors.report_rows(request.user, kind, params)
        except NotFound:
            form.add_error(None, _("Đơn vị hoặc kho bạc không thuộc phạm vi của bạn."))
        else:
            context.update(table=_table(kind, rows), title=selectors.report_title(kind),
                           filters=selectors.params_label(params), export_form=_export_fields(form.cleaned_data))
            if kind == ReportKind.REVENUE:
                context.update(_revenue_charts(rows))
    return render(request, "monitoring/reports/reports.html", context)


@role_required(*ROLES)
@require_POST
def report_export(request: HttpRequest) -> HttpResponse:
    form = ReportExportForm(request.POST, **_choices(request.user))
    if not form.is_valid():
        return render(request, "monitoring/reports/reports.html",
                      {"form": form, "exports": list(selectors.exports_of(request.user)[:10])}, status=400)
    try:
        export = services.report_request(actor=request.user, kind=form.cleaned_data["kind"],
                                         fmt=form.cleaned_data["format"], params=_params(form.cleaned_data))
    except ApplicationError as exc:
        if exc.http_status in {403, 404}:
            raise
        form.add_error(None, exc.message)
        return render(request, "monitoring/reports/reports.html", {"form": form}, status=exc.http_status)
    return redirect("monitoring-report", pk=export.pk)


def _export_context(request: HttpRequest, export: object) -> dict:
    params = selectors.ReportParams.from_dict(export.params)
    return {"export": export, "title": selectors.report_title(export.kind),
            "filters": selectors.params_label(params), "downloadable": selectors.can_download(request.user, export)}


@role_required(*ROLES)
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    export = selectors.access_export(request.user, pk)
    return render(request, "monitoring/reports/export.html", _export_context(request, export))


@role_required(*ROLES)
def report_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment (htmx asks for it every 2 s until the export is finished)."""
    export = selectors.access_export(request.user, pk)
    return render(request, "monitoring/reports/_export_status.html", _export_context(request, export))


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def export_file_response(export: object) -> FileResponse:
    try:
        handle = export.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise NotFound() from None
    response = FileResponse(handle, as_attachment=True, filename=selectors.export_filename(export),
                            content_type=CONTENT_TYPES[export.format])
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@role_required(*ROLES)
def report_file(request: HttpRequest, pk: int) -> HttpResponse:
    export = selectors.access_export(request.user, pk)
    if not selectors.can_download(request.user, export):
        return redirect("monitoring-report", pk=export.pk)
    return export_file_response(export)
