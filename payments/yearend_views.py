"""Browser pages of the year end. Thin: reads through payments.selectors.yearend
(404 for another office's year end), each action one POST calling one service
of payments.services.yearend; a refusal is shown as its sentence.

- treasury staff: their offices' year ends (phase, dates, the close's progress,
  the open vouchers); administrators over the office set the dates, copy the
  new year's budget lines and close the year (a "check your answers" page
  first; the close's progress polls itself while it runs).
The roll-over of autopay authorizations is autopay's (autopay/views.py).
"""

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import TREASURY_ROLES
from payments.models import FiscalYearCloseState
from payments.selectors import yearend as selectors
from payments.services import yearend as services
from payments.yearend_forms import CloseForm, FiscalYearCloseForm
from treasury_portal.errors import ApplicationError, NotFound
from treasury_portal.errors import PermissionDenied as AppPermissionDenied
from treasury_portal.pages import role_required, treasury_admin_required

PAGE_SIZE = 100
def _phase_label(phase: str) -> str:
    return {
        "open": _("Đang trong năm"), "adjustment": _("Thời gian chỉnh lý"), "closed": _("Đã hết hạn chi"),
    }[phase]


def _row(close: Any) -> dict:
    state = selectors.fiscal_year_state(close.office_id, close.year)
    return {
        "close": close, "phase": state.phase, "phase_label": _phase_label(state.phase),
        "progress": selectors.close_progress(close),
    }


@role_required(*TREASURY_ROLES)
def close_list(request: HttpRequest) -> HttpResponse:
    """The year ends of the user's offices; administrators set one up (or change its dates)."""
    offices = selectors.offices_to_close(request.user)
    form = FiscalYearCloseForm(request.POST or None, offices=offices) if offices else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise NotFound()
        if form.is_valid():
            data = form.cleaned_data
            office = next(o for o in offices if o.code == data["office"])
            try:
                close = services.fiscal_year_close_set(
                    actor=request.user, office=office, year=data["year"], cut_off=data["cut_off"],
                    adjustment_until=data["adjustment_until"],
                )
            except (NotFound, AppPermissionDenied):
                raise
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                for name, errors in exc.fields.items():
                    if name in form.fields:
                        form.add_error(name, errors)
                status = 409 if exc.http_status == 409 else 400
            else:
                messages.success(request, _("Đã lưu các mốc khóa sổ năm %(year)s.") % {"year": close.year})
                return redirect("yearend-close", pk=close.pk)
        else:
            status = 400
    elif form is not None:
        from django.utils import timezone

        year = timezone.localdate().year
        form.initial = {"year": year if timezone.localdate().month > 1 else year - 1}
    page = Paginator(selectors.closes_visible(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [_row(c) for c in page.object_list]
    return render(request, "payments/yearend/close_list.html", {"rows": rows, "page": page, "form": form},
                  status=status)


def _detail_context(request: HttpRequest, close: Any) -> dict:
    open_vouchers = list(selectors.open_vouchers(close)[:PAGE_SIZE])
    can_close = selectors.can_close(request.user, close)
    return {
        **_row(close),
        "open_vouchers": open_vouchers,
        "open_count": selectors.open_vouchers(close).count(),
        "unsent_count": selectors.unsent_vouchers_count(close),
        "lines": selectors.budget_line_counts(close),
        "can_manage": selectors.can_manage_close(request.user, close),
        "can_edit": selectors.can_edit_close(request.user, close),
        "can_close": can_close,
        "close_due": selectors.close_due(close),
        "refusable": selectors.REFUSABLE_STATUSES,
        "running": close.state == FiscalYearCloseState.CLOSING,
        "next_year": close.year + 1,
    }


@role_required(*TREASURY_ROLES)
def close_detail(request: HttpRequest, pk: int) -> HttpResponse:
    close = selectors.access_close(request.user, pk)
    return render(request, "payments/yearend/close_detail.html", _detail_context(request, close))


@role_required(*TREASURY_ROLES)
@require_GET
def close_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: the close's status block again (it polls itself while the close runs)."""
    close = selectors.access_close(request.user, pk)
    return render(request, "payments/yearend/_progress.html", _row(close) | {
        "running": close.state == FiscalYearCloseState.CLOSING,
    })


@treasury_admin_required
def close_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Check your answers: what the close will refuse and carry; only the
    confirmation's POST (`confirm=1`) closes the year."""
    close = selectors.access_close(request.user, pk)
    if not selectors.can_manage_close(request.user, close):
        raise NotFound()
    refusable = [v for v in selectors.open_vouchers(close) if v.status in selectors.REFUSABLE_STATUSES]
    form = CloseForm(request.POST if request.method == "POST" else (request.GET or None), refusable=refusable)
    status = 200
    if form.is_bound and form.is_valid():
        chosen = {int(i) for i in form.cleaned_data["refuse"]}
        if request.method == "POST" and request.POST.get("confirm") == "1":
            try:
                services.fiscal_year_close_start(
                    actor=request.user, close=close, refuse=sorted(chosen), note=form.cleaned_data["note"]
                )
            except (NotFound, AppPermissionDenied):
                raise
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                status = 409 if exc.http_status == 409 else 400
            else:
                messages.success(request, _("Đang khóa sổ năm %(year)s: tiến độ hiển thị dưới đây.") % {
                    "year": close.year})
                return redirect("yearend-close", pk=close.pk)
    elif form.is_bound:
        status = 400
    chosen = {int(i) for i in (form.cleaned_data.get("refuse", []) if form.is_bound and form.is_valid() else [])}
    open_count = selectors.open_vouchers(close).count()
    context = {
        **_row(close), "form": form, "refused": [v for v in refusable if v.pk in chosen],
        "carried_count": open_count - len(chosen), "can_close": selectors.can_close(request.user, close),
        "note": form.cleaned_data.get("note", "") if form.is_bound and form.is_valid() else "",
        "next_year": close.year + 1,
    }
    return render(request, "payments/yearend/close_confirm.html", context, status=status)


@treasury_admin_required
@require_POST
def close_copy_budget_lines(request: HttpRequest, pk: int) -> HttpResponse:
    close = selectors.access_close(request.user, pk)
    try:
        n = services.budget_lines_copy_to_next_year(actor=request.user, close=close)
    except AppPermissionDenied:
        raise NotFound() from None
    messages.success(
        request,
        _("Đã tạo %(n)s dòng dự toán năm %(year)s (số tiền bằng 0): nhập hoặc tải lên số được giao ở trang dự toán.")
        % {"n": n, "year": close.year + 1},
    )
    return redirect("yearend-close", pk=close.pk)
