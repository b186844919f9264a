"""Pages of the leader dashboard, the satisfaction follow-ups and the public
satisfaction page. Thin: form → selector/service → template; the figures and
their definitions are monitoring.dashboard's."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import TREASURY_ROLES, Role, User
from monitoring import dashboard
from monitoring.dashboard_forms import (
    AssignForm,
    CloseForm,
    ContactNoteForm,
    DashboardForm,
    FollowUpFilterForm,
    PeriodForm,
)
from monitoring.models import FollowUp
from monitoring.satisfaction import selectors, services
from treasury_portal import charts
from treasury_portal.errors import ApplicationError
from treasury_portal.money import format_percent
from treasury_portal.pages import role_required
from vouchers.models import VoucherStatus
from vouchers.selectors import local_today
from vouchers.views import paginate

LEADERS = (Role.APPROVER, Role.ADMINISTRATOR)


def _percent(value: float | None) -> str:
    return "—" if value is None else format_percent(value)


def _hours(value: float | None) -> str:
    """Hours with one decimal in the reader's format (12,5 / 12.5)."""
    return "—" if value is None else format_percent(value).removesuffix("%")


def _charts(figs: dict) -> dict:
    vouchers = reverse("voucher-list")
    statuses = figs["statuses"]
    labels = dict(VoucherStatus.choices)
    status_chart = charts.bar_chart(
        "dash-status", _("Chứng từ tiếp nhận trong kỳ theo trạng thái"),
        _("%(n)s chứng từ tiếp nhận trong kỳ.") % {"n": statuses["received"]},
        [charts.Bar(str(labels[s]), n, "danger" if s in ("refused", "payment_failed") else "",
                    f"{vouchers}?{urlencode({'status': s})}")
         for s, n in statuses["by_status"].items()],
    )
    alerts = reverse("monitoring-alerts")
    alert_chart = charts.bar_chart(
        "dash-alerts", _("Cảnh báo đang mở theo quy tắc"),
        _("%(n)s cảnh báo đang mở.") % {"n": sum(a["count"] for a in figs["alerts"])},
        [charts.Bar(a["name"], a["count"], "warn", f"{alerts}?{urlencode({'status': 'active', 'rule': a['rule']})}")
         for a in figs["alerts"]],
    )
    officer_chart = charts.bar_chart(
        "dash-officers", _("Khối lượng công việc: chứng từ đang kiểm soát theo cán bộ"),
        _("%(n)s cán bộ.") % {"n": len(figs["officers"])},
        [charts.Bar(o["name"], o["in_control"]) for o in figs["officers"]],
    )
    return {"status_chart": status_chart, "alert_chart": alert_chart, "officer_chart": officer_chart}


@role_required(*LEADERS)
def dashboard_page(request: HttpRequest) -> HttpResponse:
    dates = PeriodForm(request.GET or None)
    values = dates.cleaned_data if dates.is_bound and dates.is_valid() else {}
    # The office as asked (one the reader does not lead is a 404, as in the API).
    figs = dashboard.dashboard(request.user, office=request.GET.get("office") or None, start=values.get("from"),
                               end=values.get("to"))
    form = DashboardForm(request.GET or None, offices=figs["scope"].offices)
    period = figs["period"]
    for row in figs["offices"]:
        row["satisfied_text"] = _percent(row["satisfied_share"])
        row["on_time_text"] = _percent(row["on_time_rate"])
    return render(request, "monitoring/dashboard.html", {
        "form": form, "f": figs, "scope": figs["scope"], "period": period,
        "below": len(figs["scope"].office_ids) - 1,
        "on_time_rate": _percent(figs["timing"]["on_time_rate"]),
        "return_rate": _percent(figs["statuses"]["return_rate"]),
        "refusal_rate": _percent(figs["statuses"]["refusal_rate"]),
        "satisfied_share": _percent(figs["satisfaction"]["satisfied_share"]),
        "median_hours": _hours(figs["timing"]["median_hours"]),
        "p90_hours": _hours(figs["timing"]["p90_hours"]),
        "overdue_url": f"{reverse('review-queue')}?{urlencode({'due_before': local_today().isoformat()})}",
        "followups_url": f"{reverse('monitoring-followups')}?status=active",
        "reason_tables": [(_("Thiếu sót khi trả lại bổ sung"), figs["reasons"]["returns"]),
                          (_("Lý do từ chối"), figs["reasons"]["refusals"])],
        **_charts(figs),
    })


def public_satisfaction(request: HttpRequest) -> HttpResponse:
    """Public: each office's share of satisfied ratings and on-time rate for a period."""
    form = PeriodForm(request.GET or None)
    values = form.cleaned_data if form.is_bound and form.is_valid() else {}
    period = dashboard.period_of(values.get("from"), values.get("to"))
    rows = dashboard.public_office_rates(period, summaries=dashboard.use_summaries())
    for row in rows:
        row["satisfied_text"] = _percent(row["satisfied_share"])
        row["on_time_text"] = _percent(row["on_time_rate"])
    return render(request, "monitoring/public_satisfaction.html", {"form": form, "period": period, "rows": rows})


# --- follow-ups ---------------------------------------------------------------------


@role_required(*TREASURY_ROLES)
def followup_list(request: HttpRequest) -> HttpResponse:
    form = FollowUpFilterForm(request.GET or None)
    status = form.cleaned_data.get("status") if form.is_bound and form.is_valid() else None
    page = paginate(request, selectors.followup_list(request.user, status=status or None))
    return render(request, "monitoring/followup_list.html", {"form": form, "page": page, "rows": page.rows})


FORMS = {"assign": AssignForm, "note": ContactNoteForm, "close": CloseForm}


def _form(action: str, followup: FollowUp, data: Any = None) -> Any:
    if action == "assign":
        return AssignForm(data, prefix=action, candidates=list(selectors.assignee_candidates(followup)))
    return FORMS[action](data, prefix=action)


def _detail(request: HttpRequest, followup: FollowUp, bound: dict | None = None, status: int = 200) -> HttpResponse:
    allowed = services.allowed_actions(request.user, followup)
    bound = bound or {}
    forms = {a: bound.get(a) or _form(a, followup) for a in ("assign", "note", "close") if a in allowed}
    return render(request, "monitoring/followup_detail.html", {
        "followup": followup, "events": list(selectors.followup_events(followup)), "forms": forms,
    }, status=status)


@role_required(*TREASURY_ROLES)
def followup_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.access_followup(request.user, pk))


def _run(action: str, actor: User, followup: FollowUp, data: dict) -> None:
    if action == "assign":
        assignee = next((u for u in selectors.assignee_candidates(followup) if u.username == data["assignee"]), None)
        services.followup_assign(actor=actor, followup=followup, assignee=assignee, note=data.get("note", ""))
    elif action == "note":
        services.followup_note(actor=actor, followup=followup, note=data["note"])
    else:
        services.followup_close(actor=actor, followup=followup, note=data["note"])


@role_required(*TREASURY_ROLES)
@require_POST
def followup_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    followup = selectors.access_followup(request.user, pk)
    if action not in FORMS:
        raise Http404
    form = _form(action, followup, request.POST)
    if not form.is_valid():
        return _detail(request, followup, {action: form}, status=400)
    try:
        _run(action, request.user, followup, form.cleaned_data)
    except ApplicationError as exc:
        if exc.http_status in {403, 404}:
            raise
        form.add_error(None, exc.message)
        return _detail(request, selectors.access_followup(request.user, pk), {action: form}, status=exc.http_status)
    messages.success(request, {
        "assign": _("Đã giao việc theo dõi."), "note": _("Đã ghi nội dung liên hệ."),
        "close": _("Đã đóng việc theo dõi."),
    }[action])
    return redirect("monitoring-followup", pk=followup.pk)
