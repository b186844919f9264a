"""Pages of risk monitoring: the alert list (treasury staff: their offices'
units; a unit: its own) and an alert with its evidence, its history and the
actions the reader may take (services.can_*). Thin: form → service → redirect."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import TREASURY_ROLES, UNIT_ROLES
from monitoring import selectors, services
from monitoring.forms import AlertFilterForm, ExplainForm, NoteForm, RequiredNoteForm
from treasury_portal.errors import ApplicationError
from treasury_portal.pages import role_required
from vouchers.views import paginate

ACTIONS = {
    # action: (form, service, done message)
    "acknowledge": (NoteForm, lambda u, a, note: services.alert_acknowledge(actor=u, alert=a, note=note)),
    "explain": (ExplainForm, lambda u, a, note: services.alert_explain(actor=u, alert=a, explanation=note)),
    "resolve": (RequiredNoteForm, lambda u, a, note: services.alert_resolve(actor=u, alert=a, note=note)),
    "dismiss": (RequiredNoteForm, lambda u, a, note: services.alert_dismiss(actor=u, alert=a, note=note)),
}


def _done(action: str) -> str:
    return {
        "acknowledge": _("Đã tiếp nhận cảnh báo."),
        "explain": _("Đã gửi giải trình."),
        "resolve": _("Đã đánh dấu cảnh báo là xử lý xong."),
        "dismiss": _("Đã bỏ qua cảnh báo."),
    }[action]


def _rule_choices() -> list[tuple[str, str]]:
    return [(r.code, selectors.rule_name(r)) for r in selectors.rules_all()]


@role_required(*UNIT_ROLES, *TREASURY_ROLES)
def alert_list(request: HttpRequest) -> HttpResponse:
    form = AlertFilterForm(request.GET or None, rules=_rule_choices())
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    alerts = selectors.alert_list(
        request.user, status=filters.get("status") or None, rule=filters.get("rule") or None,
        severity=filters.get("severity") or None,
    )
    page = paginate(request, alerts)
    rows = [
        {"alert": a, "rule": selectors.rule_name(a.rule), "sentence": selectors.evidence_sentence(a)}
        for a in page.rows
    ]
    template = "monitoring/_alert_rows.html" if request.htmx else "monitoring/alert_list.html"
    return render(request, template, {"form": form, "page": page, "rows": rows})


def _detail(request: HttpRequest, alert: object, bound: dict | None = None, status: int = 200) -> HttpResponse:
    allowed = services.allowed_actions(request.user, alert)
    bound = bound or {}
    forms = {a: bound.get(a) or ACTIONS[a][0](prefix=a) for a in ("acknowledge", "explain", "resolve", "dismiss")
             if a in allowed}
    return render(
        request,
        "monitoring/alert_detail.html",
        {
            "alert": alert,
            "rule": selectors.rule_name(alert.rule),
            "sentence": selectors.evidence_sentence(alert),
            "events": list(selectors.alert_events(alert)),
            "forms": forms,
        },
        status=status,
    )


@role_required(*UNIT_ROLES, *TREASURY_ROLES)
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.access_alert(request.user, pk))


@role_required(*UNIT_ROLES, *TREASURY_ROLES)
@require_POST
def alert_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    alert = selectors.access_alert(request.user, pk)
    if action not in ACTIONS:
        raise Http404
    form_class, run = ACTIONS[action]
    form = form_class(request.POST, prefix=action)
    if not form.is_valid():
        return _detail(request, alert, {action: form}, status=400)
    try:
        run(request.user, alert, form.cleaned_data.get("note", ""))
    except ApplicationError as exc:
        if exc.http_status in {403, 404}:
            raise
        form.add_error(None, exc.message)
        return _detail(request, selectors.access_alert(request.user, pk), {action: form}, status=exc.http_status)
    messages.success(request, _done(action))
    return redirect("monitoring-alert", pk=alert.pk)
