"""Browser pages of vouchers and budgets. Thin: each page reads through the
selectors, each action is a POST form calling one service; the rules live there.
A service's refusal (ApplicationError) is shown on the page as its sentence."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db.models import F, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.models import TREASURY_ROLES, UNIT_ROLES, Role
from payments.selectors import budget as budget_selectors
from payments.services import budget as budget_services
from treasury_portal.errors import ApplicationError
from treasury_portal.pages import role_required, treasury_admin_required
from vouchers import selectors
from vouchers.forms import (
    AllocationLineForm,
    AllocationUploadForm,
    BudgetFilterForm,
    QueueFilterForm,
    VoucherFilterForm,
)
from vouchers.models import DocumentKind, VoucherStatus

PAGE_SIZE = 50
MAX_PAGE = 10_000


# --- shared helpers -------------------------------------------------------------


@dataclass
class Page:
    """One page of rows without a COUNT(*): a page size + 1 fetch tells whether
    there is a next page, so the cost of a page never depends on the table's size."""

    rows: list
    number: int
    has_previous: bool
    has_next: bool
    query: str


def paginate(request: HttpRequest, queryset: Any, size: int = PAGE_SIZE) -> Page:
    try:
        number = min(max(1, int(request.GET.get("page", "1"))), MAX_PAGE)
    except ValueError:
        number = 1
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    params = request.GET.copy()
    params.pop("page", None)
    return Page(rows[:size], number, number > 1, len(rows) > size, params.urlencode())


def _day_month(month_day: str) -> str:
    """ "12-25" → "25/12" (a day of every year, as people write it)."""
    month, _sep, day = str(month_day).partition("-")
    return f"{day}/{month}"


def _error_text(exc: ApplicationError) -> list[str]:
    """The service's sentence, and its line-numbered details when it gave some."""
    rows = exc.fields.get("rows") if isinstance(exc.fields, dict) else None
    return [str(r) for r in rows] if rows else []


# --- budget ---------------------------------------------------------------------


@role_required(*UNIT_ROLES, *TREASURY_ROLES)
def budget(request: HttpRequest) -> HttpResponse:
    """The unit's budget lines for a fiscal year, with usage bars and a chart by NDKT."""
    user = request.user
    units = list(account_selectors.visible_units(user).order_by("code").only("pk", "code", "name"))
    this_year = timezone.localdate().year
    years = sorted(
        set(budget_selectors.budget_lines_visible(user).values_list("fiscal_year", flat=True).distinct())
        | {this_year},
        reverse=True,
    )
    unit_choices = [(u.code, f"{u.code} – {u.name}") for u in units]
    if len(units) > 1:
        unit_choices = [("", _("Tất cả đơn vị"))] + unit_choices
    form = BudgetFilterForm(request.GET or None, units=unit_choices, years=years)
    unit_code = units[0].code if len(units) == 1 else ""
    fiscal_year = this_year
    if form.is_bound and form.is_valid():
        unit_code = form.cleaned_data.get("unit") or unit_code
        fiscal_year = form.cleaned_data.get("fiscal_year") or this_year
    lines = budget_selectors.budget_lines_visible(user, unit=unit_code or None, fiscal_year=fiscal_year)
    page = paginate(request, lines.order_by("unit__code", "ndkt", "chapter", "sector", "id"))
    rows = [{"line": line, "usage": budget_selectors.budget_line_usage(line)} for line in page.rows]
    totals = lines.aggregate(allocated=Sum("allocated"), reserved=Sum("reserved"), spent=Sum("spent"))
    totals = {k: v or 0 for k, v in totals.items()}
    totals["available"] = totals["allocated"] - totals["reserved"] - totals["spent"]
    chart = [
        {
            "ndkt": row["ndkt"],
            "allocated": row["allocated"] or 0,
            "used": row["used"] or 0,
            "percent": min(100, ((row["used"] or 0) * 100 // row["allocated"]) if row["allocated"] else 0),
        }
        for row in lines.order_by()
        .values("ndkt")
        .annotate(allocated=Sum("allocated"), used=Sum(F("reserved") + F("spent")))
        .order_by("ndkt")
    ]
    return render(
        request,
        "vouchers/budget.html",
        {
            "form": form,
            "show_unit_filter": len(units) > 1,
            "unit": next((u for u in units if u.code == unit_code), None),
            "fiscal_year": fiscal_year,
            "rows": rows,
            "page": page,
            "totals": totals,
            "chart": chart,
            "warn_percent": budget_selectors.WARN_PERCENT,
            "can_load": account_selectors.is_treasury_admin(user),
        },
    )


@treasury_admin_required
def budget_allocations(request: HttpRequest) -> HttpResponse:
    """Treasury administrators load allocations: one line by form, or many by CSV."""
    user = request.user
    offices = account_selectors.organisations_with_role(user, Role.ADMINISTRATOR)
    units = list(account_selectors.visible_units(user, roles={Role.ADMINISTRATOR}).order_by("code"))
    scope_choices = [(o.code, f"{o.code} – {o.name}") for o in offices]
    unit_choices = [(u.code, f"{u.code} – {u.name}") for u in units]
    this_year = timezone.localdate().year
    upload_form = AllocationUploadForm(scopes=scope_choices, initial={"fiscal_year": this_year})
    line_form = AllocationLineForm(units=unit_choices, initial={"fiscal_year": this_year, "key": uuid.uuid4().hex})
    row_errors: list[str] = []
    if request.method == "POST" and request.POST.get("form") == "csv":
        upload_form = AllocationUploadForm(request.POST, request.FILES, scopes=scope_choices)
        if upload_form.is_valid():
            scope = next(o for o in offices if o.code == upload_form.cleaned_data["scope"])
            try:
                movements = budget_services.budget_allocations_load_csv(
                    actor=user,
                    unit_or_office_scope=scope,
                    fiscal_year=upload_form.cleaned_data["fiscal_year"],
                    rows=upload_form.cleaned_data["file"].read(),
                )
            except ApplicationError as exc:
                row_errors = _error_text(exc)
                upload_form.add_error(
                    None, _("Tệp dự toán có lỗi, chưa dòng nào được nạp.") if row_errors else exc.message
                )
            else:
                messages.success(
                    request, _("Đã nạp %(count)s dòng dự toán.") % {"count": len(movements)}
                )
                return redirect("budget-allocations")
    elif request.method == "POST" and request.POST.get("form") == "line":
        line_form = AllocationLineForm(request.POST, units=unit_choices)
        if line_form.is_valid():
            data = line_form.cleaned_data
            unit = next(u for u in units if u.code == data["unit"])
            try:
                line = budget_services.budget_line_get_or_create(
                    actor=user, unit=unit, fiscal_year=data["fiscal_year"], chapter=data["chapter"],
                    sector=data["sector"], ndkt=data["ndkt"], funding_source=data["funding_source"],
                    programme=data["programme"] or "00000", budget_level=data["budget_level"], name=data["name"],
                )
                budget_services.budget_allocate(
                    actor=user, budget_line=line, amount=data["amount"], key=f"alloc-form:{data['key']}",
                    note=data["name"],
                )
            except ApplicationError as exc:
                line_form.add_error(None, exc.message)
            else:
                messages.success(request, _("Đã giao dự toán cho dòng %(line)s.") % {"line": line.classification})
                return redirect("budget-allocations")
    return render(
        request,
        "vouchers/budget_allocations.html",
        {
            "upload_form": upload_form,
            "line_form": line_form,
            "row_errors": row_errors,
            "columns": budget_services.CSV_COLUMNS,
        },
    )


# --- the public catalogue ----------------------------------------------------------


def procedure_catalogue(request: HttpRequest) -> HttpResponse:
    """Public: the procedures in force today, and the versions announced for later."""
    today = selectors.local_today()
    kinds = dict(DocumentKind.choices)

    def describe(procedure: Any, version: Any) -> dict:
        return {
            "procedure": procedure,
            "version": version,
            "name": selectors.localized(procedure, "name"),
            "documents": [
                {
                    "label": kinds.get(req.kind, req.kind),
                    "condition": selectors.requirement_condition(req),
                    "note": selectors.localized(req, "note"),
                }
                for req in version.documents.all()
            ],
            "checklist": [selectors.localized(item, "text") for item in version.checklist.all()],
            "peaks": [_day_month(a) + "–" + _day_month(b) for a, b in (version.peak_periods or [])],
        }

    in_force = [describe(p, v) for p, v in selectors.procedures_in_force(today)]
    upcoming_fn = getattr(selectors, "procedures_upcoming", None)
    upcoming = [describe(p, v) for p, v in upcoming_fn(today)] if upcoming_fn else []
    return render(
        request, "vouchers/procedure_catalogue.html", {"today": today, "in_force": in_force, "upcoming": upcoming}
    )


# --- lists --------------------------------------------------------------------------


def _procedure_choices() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for procedure, _version in selectors.procedures_in_force(filed_only=True):
        seen.setdefault(procedure.code, f"{procedure.code} – {selectors.localized(procedure, 'name')}")
    return list(seen.items())


def _list_rows(vouchers: list, now: Any) -> list[dict]:
    return [{"v": v, "due": selectors.due_state(v, now)} for v in vouchers]


@role_required(*UNIT_ROLES, *TREASURY_ROLES)
def voucher_list(request: HttpRequest) -> HttpResponse:
    """The unit's vouchers, newest first, filtered and paginated."""
    user = request.user
    units = list(account_selectors.visible_units(user).order_by("code").only("pk", "code", "name"))
    form = VoucherFilterForm(request.GET or None, procedures=_procedure_choices())
    if len(units) > 1:
        form.fields["unit"].choices = [("", _("Tất cả"))] + [(u.code, f"{u.code} – {u.name}") for u in units]
    else:
        del form.fields["unit"]
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    vouchers = selectors.voucher_list(
        user,
        status=filters.get("status") or None,
        unit=filters.get("unit") or None,
        procedure=filters.get("procedure") or None,
    )
    if filters.get("date_from"):
        vouchers = vouchers.filter(created_at__date__gte=filters["date_from"])
    if filters.get("date_to"):
        vouchers = vouchers.filter(created_at__date__lte=filters["date_to"])
    page = paginate(request, vouchers)
    return render(
        request,
        "vouchers/voucher_list.html",
        {
            "form": form,
            "page": page,
            "rows": _list_rows(page.rows, timezone.now()),
            "can_create": account_selectors.has_role(user, *UNIT_ROLES),
            "show_unit": len(units) > 1,
        },
    )


@role_required(Role.CONTROL_OFFICER, Role.APPROVER)
def review_queue(request: HttpRequest) -> HttpResponse:
    """Officers: what awaits control; approvers: what awaits approval. Oldest due first."""
    user = request.user
    units = account_selectors.visible_units(user, roles={Role.CONTROL_OFFICER, Role.APPROVER}).order_by("code")
    statuses = []
    if account_selectors.has_role(user, Role.CONTROL_OFFICER):
        statuses += [VoucherStatus.SUBMITTED, VoucherStatus.IN_CONTROL]
    if account_selectors.has_role(user, Role.APPROVER):
        statuses.append(VoucherStatus.PENDING_APPROVAL)
    form = QueueFilterForm(
        request.GET or None,
        units=[(u.code, f"{u.code} – {u.name}") for u in units.only("code", "name")],
        procedures=_procedure_choices(),
        statuses=[(s.value, s.label) for s in statuses],
    )
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    vouchers = selectors.review_queue(
        user,
        unit=filters.get("unit") or None,
        procedure=filters.get("procedure") or None,
        status=filters.get("status") or None,
        due_before=filters.get("due_before") or None,
    )
    page = paginate(request, vouchers)
    now = timezone.now()
    rows = _list_rows(page.rows, now)
    return render(
        request,
        "vouchers/review_queue.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "overdue_on_page": sum(1 for r in rows if r["due"] == "overdue"),
            "near_on_page": sum(1 for r in rows if r["due"] == "near"),
        },
    )
