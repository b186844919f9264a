"""Reads of the monitoring app, scoped like every other read (accounts.selectors):
a unit's people see the alerts about their unit (rules on units); treasury staff
see every alert of their office's units and of the offices below. Another
organisation's alert is a 404."""

from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import TREASURY_ROLES, OrgKind, User
from accounts.selectors import memberships_of, unit_scope_q
from monitoring.models import ACTIVE_STATUSES, Alert, AlertEvent, AlertStatus, Monitored, RiskRule, Severity
from monitoring.rule_sentences import SENTENCES as MORE_SENTENCES
from treasury_portal.errors import NotFound
from treasury_portal.money import format_money
from vouchers.selectors import localized


def alerts_visible(user: User) -> QuerySet[Alert]:
    if not user.is_authenticated:
        return Alert.objects.none()
    unit_ids = [m.organisation_id for m in memberships_of(user) if m.organisation.kind == OrgKind.UNIT]
    q = Q(unit_id__in=unit_ids, monitored=Monitored.UNIT) if unit_ids else Q(pk__in=[])
    q |= unit_scope_q(user, roles=set(TREASURY_ROLES))
    return Alert.objects.filter(q)


def alert_list(
    user: User, *, status: str | None = None, rule: str | None = None, severity: str | None = None,
) -> QuerySet[Alert]:
    """The user's alerts, newest first; `status` may be "active" (open,
    acknowledged or explained) or one status."""
    qs = alerts_visible(user).select_related("rule", "unit", "voucher")
    if status == "active":
        qs = qs.filter(status__in=ACTIVE_STATUSES)
    elif status in AlertStatus.values:
        qs = qs.filter(status=status)
    if rule:
        qs = qs.filter(rule__code=rule)
    if severity in Severity.values:
        qs = qs.filter(severity=severity)
    return qs.order_by("-created_at", "-id")


def access_alert(user: User, pk: int) -> Alert:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    alert = alerts_visible(user).select_related("rule", "unit", "voucher").filter(pk=pk).first()
    if alert is None:
        raise NotFound()
    return alert


def alert_events(alert: Alert) -> QuerySet[AlertEvent]:
    return alert.events.select_related("actor").order_by("created_at", "id")


def voucher_alerts(user: User, voucher_id: int) -> list[Alert]:
    """The active alerts on a voucher the user may see, the most severe first."""
    order = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
    rows = list(
        alerts_visible(user).filter(voucher_id=voucher_id, status__in=ACTIVE_STATUSES).select_related("rule", "unit")
    )
    return sorted(rows, key=lambda a: (order.get(a.severity, 3), -a.pk))


def open_alerts_by_rule(user: User) -> list[dict]:
    """The active alerts per rule (for a leader's page)."""
    counts = dict(
        alerts_visible(user).filter(status__in=ACTIVE_STATUSES).order_by().values_list("rule_id")
        .annotate(n=Count("id")).values_list("rule_id", "n")
    )
    return [
        {"rule": rule, "name": rule_name(rule), "count": counts.get(rule.pk, 0)}
        for rule in RiskRule.objects.filter(pk__in=list(counts))
    ]


def rules_all() -> QuerySet[RiskRule]:
    return RiskRule.objects.order_by("code")


def rule_name(rule: RiskRule) -> str:
    return localized(rule, "name")


# --- the evidence as sentences ---------------------------------------------------------


def _duplicate(e: dict) -> str:
    text = _(
        "Chứng từ %(voucher)s trả %(amount)s cho %(payee)s, tài khoản %(account)s%(bank)s — cùng số tiền và tài "
        "khoản với chứng từ %(other)s của đơn vị %(unit)s, cách nhau %(days)s ngày (ngưỡng %(limit)s ngày)."
    )
    bank = f" ({e['bank']})" if e.get("bank") else ""
    return text % {
        "voucher": e.get("voucher", ""), "amount": format_money(e.get("amount")), "payee": e.get("payee", ""),
        "account": e.get("account", ""), "bank": bank, "other": e.get("other_voucher", ""),
        "unit": e.get("other_unit", ""), "days": e.get("days_apart", 0), "limit": e.get("days", 30),
    }


def _fast(e: dict) -> str:
    return _(
        "Chứng từ %(voucher)s được kiểm soát xong trong %(seconds)s giây với %(items)s mục kiểm tra, dưới mức tối "
        "thiểu hợp lý %(minimum)s giây (cán bộ: %(officer)s)."
    ) % {k: e.get(k, "") for k in ("voucher", "seconds", "items", "minimum", "officer")}


def _budget(e: dict) -> str:
    return _(
        "Dòng dự toán %(line)s đã dùng %(used_percent)s%% (%(used)s trên %(allocated)s), vượt ngưỡng %(percent)s%%."
    ) % {
        "line": e.get("line", ""), "used_percent": e.get("used_percent", ""), "percent": e.get("percent", ""),
        "used": format_money(e.get("used")), "allocated": format_money(e.get("allocated")),
    }


def _second_return(e: dict) -> str:
    return _(
        "Chứng từ %(voucher)s đã bị trả lại %(returns)s lần, nhiều hơn %(allowed)s lần theo quy định “chỉ yêu cầu "
        "bổ sung một lần”."
    ) % {k: e.get(k, "") for k in ("voucher", "returns", "allowed")}


def _overdue(e: dict) -> str:
    due = parse_datetime(e.get("due_at", "") or "")
    when = date_format(timezone.localtime(due, ZoneInfo("Asia/Ho_Chi_Minh")), "H:i d/m/Y") if due else ""
    if e.get("state") == "overdue":
        return _("Chứng từ %(voucher)s đã quá hạn xử lý (hạn %(due)s).") % {"voucher": e.get("voucher", ""),
                                                                            "due": when}
    return _("Chứng từ %(voucher)s sắp đến hạn xử lý (hạn %(due)s).") % {"voucher": e.get("voucher", ""), "due": when}


SENTENCES = {
    "duplicate_payment": _duplicate,
    "fast_checklist": _fast,
    "budget_high_use": _budget,
    "second_return": _second_return,
    "overdue": _overdue,
    "budget_warn": _budget,
    **MORE_SENTENCES,
}


def evidence_sentence(alert: Alert) -> str:
    """The rule's evidence as one sentence in the reader's language, never its codes."""
    describe = SENTENCES.get(alert.rule.code)
    if describe is None:
        return _("Quy tắc “%(rule)s” phát hiện dấu hiệu rủi ro.") % {"rule": rule_name(alert.rule)}
    try:
        return describe(alert.evidence or {})
    except (KeyError, TypeError, ValueError):
        return _("Quy tắc “%(rule)s” phát hiện dấu hiệu rủi ro.") % {"rule": rule_name(alert.rule)}
