"""The facts of the later rules (monitoring.rules has their pure functions),
gathered from the vouchers', budgets' and autopay's rows, and what follows a
raise: the budget rules (80% and 90% of a line used) tell the unit's signers.

monitoring.services calls in here: `VOUCHER_CHECKS` join the per-voucher
evaluation (the minute task over voucher events and the nightly sweep),
`sweep_more` joins the nightly sweep (and the minute task for autopay's
anomalies), `after_raise` runs inside the raise's transaction."""

from datetime import datetime, timedelta

from django.db.models import Count
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from autopay.models import SupplierInvoice
from monitoring import rules
from monitoring.models import Alert, RiskRule, RuleCode
from payments.models import BudgetLine, Notification, NotificationKind
from vouchers.models import Voucher, VoucherEvent


def _services():  # noqa: ANN202 - monitoring.services (it imports this module lazily too)
    from monitoring import services

    return services


# --- payee's account changed shortly before a payment -----------------------------------


def _use(voucher: Voucher) -> rules.PayeeUse:
    return rules.PayeeUse(voucher.pk, voucher.payee_name, voucher.payee_account, voucher.payee_bank_id,
                          voucher.received_at or voucher.created_at)


def payee_account_hits(voucher: Voucher, rule: RiskRule) -> list:
    services = _services()
    if voucher.status in services.NOT_PAYING or not voucher.payee_account:
        return []
    days = rules.param(rule.params, rule.code, "days")
    at = _use(voucher).at
    earlier = list(
        Voucher.objects.filter(unit_id=voucher.unit_id, payee_name__iexact=voucher.payee_name,
                               created_at__gte=at - timedelta(days=days + 1), created_at__lte=at)
        .exclude(pk=voucher.pk).exclude(status__in=services.NOT_PAYING).select_related("payee_bank")
    )
    previous = rules.changed_account(_use(voucher), [_use(v) for v in earlier], days)
    if previous is None:
        return []
    before = next(v for v in earlier if v.pk == previous.voucher_id)
    return [services.Hit(
        key=f"{voucher.pk}:{before.pk}", unit_id=voucher.unit_id, voucher_id=voucher.pk, subject=voucher.number,
        evidence={
            "voucher": voucher.number, "payee": voucher.payee_name, "account": voucher.payee_account,
            "bank": voucher.payee_bank.name if voucher.payee_bank_id else "",
            "previous_voucher": before.number, "previous_voucher_id": before.pk,
            "previous_account": before.payee_account,
            "previous_bank": before.payee_bank.name if before.payee_bank_id else "",
            "days_apart": (at - previous.at).days, "days": days,
        },
    )]


def budget_warn_hits(voucher: Voucher, rule: RiskRule) -> list:
    services = _services()
    lines = BudgetLine.objects.filter(voucher_lines__voucher=voucher).distinct()
    return [h for h in (services.budget_line_hit(line, rule, voucher) for line in lines) if h]


VOUCHER_CHECKS = {
    RuleCode.PAYEE_ACCOUNT_CHANGED: payee_account_hits,
    RuleCode.BUDGET_WARN: budget_warn_hits,
}


# --- one controller-approver pair -----------------------------------------------------------


def _name(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user else ""


def pair_hits(rule: RiskRule, now: datetime) -> list:
    """Per transaction office, the vouchers approved in the last `days` by
    (controller, approver): the pairs above `percent` of the office's vouchers.
    One alert per pair and ISO week, on the office (a rule on the treasury)."""
    services = _services()
    days = rules.param(rule.params, rule.code, "days")
    percent = rules.param(rule.params, rule.code, "percent")
    minimum = rules.param(rule.params, rule.code, "min_vouchers")
    rows = (
        VoucherEvent.objects.filter(action="approve", created_at__gte=now - timedelta(days=days),
                                    voucher__controller__isnull=False, voucher__approver__isnull=False)
        .order_by().values_list("voucher__office_id", "voucher__controller_id", "voucher__approver_id")
        .annotate(n=Count("voucher_id", distinct=True))
    )
    by_office: dict[int, dict[tuple[int, int], int]] = {}
    for office_id, controller_id, approver_id, n in rows:
        by_office.setdefault(office_id, {})[(controller_id, approver_id)] = n
    year, week, _day = now.isocalendar()
    hits = []
    for office_id, counts in sorted(by_office.items()):
        found = rules.dominant_pairs(counts, percent, minimum)
        if not found:
            continue
        office = Organisation.objects.get(pk=office_id)
        people = User.objects.in_bulk({p for (pair, _n, _t) in found for p in pair})
        for (controller_id, approver_id), n, total in found:
            controller, approver = people.get(controller_id), people.get(approver_id)
            hits.append(services.Hit(
                key=f"{office_id}:{controller_id}:{approver_id}:{year}-W{week:02d}", unit_id=office_id,
                voucher_id=None, subject=f"{_name(controller)} – {_name(approver)}"[:255],
                evidence={"office": f"{office.code} – {office.name}", "controller": _name(controller),
                          "approver": _name(approver), "vouchers": n, "total": total,
                          "share_percent": n * 100 // total, "percent": percent, "days": days},
            ))
    return hits


# --- autopay anomalies ----------------------------------------------------------------------


def autopay_anomaly_hits(rule: RiskRule) -> list:
    """The open autopay exceptions held for an unusual amount (one alert each)."""
    services = _services()
    # Few rows: the open held amounts (the partial index monitoring_autopay_anomaly_open).
    invoices = list(
        SupplierInvoice.objects.filter(status="exception", exception_code="amount_anomaly", closed_at__isnull=True,
                                       unit__isnull=False)
        .select_related("supplier").order_by("pk")
    )
    raised = set(Alert.objects.filter(rule=rule, key__in=[f"invoice:{inv.pk}" for inv in invoices])
                 .values_list("key", flat=True))
    hits = []
    for inv in invoices:
        key = f"invoice:{inv.pk}"
        if key in raised or not rules.is_autopay_anomaly(inv.exception_code):
            continue
        params = inv.exception_params if isinstance(inv.exception_params, dict) else {}
        hits.append(services.Hit(
            key=key, unit_id=inv.unit_id, voucher_id=None, subject=inv.invoice_number,
            evidence={"invoice": inv.invoice_number, "invoice_id": inv.pk, "supplier": inv.supplier.name,
                      "customer_code": inv.customer_code, "period": inv.period, "amount": inv.amount,
                      "median": params.get("median"), "factor": params.get("factor"), "history": params.get("n")},
        ))
    return hits


# --- the sweep ------------------------------------------------------------------------------


def _budget_lines_above(rule: RiskRule) -> list:
    from django.db.models import F

    percent = rules.param(rule.params, rule.code, "percent")
    lines = BudgetLine.objects.filter(allocated__gt=0).alias(
        used100=(F("reserved") + F("spent")) * 100, limit100=F("allocated") * percent
    ).filter(used100__gt=F("limit100"))
    services = _services()
    return [h for h in (services.budget_line_hit(line, rule) for line in lines.iterator()) if h]


def sweep_more(rules_by_code: dict[str, RiskRule], now: datetime, *, nightly: bool = True) -> int:
    """The office-wide rules: autopay anomalies (also every minute), and at
    night the controller-approver pairs and the lines above 80%."""
    services = _services()
    raised = 0
    batches = []
    if (rule := rules_by_code.get(RuleCode.AUTOPAY_ANOMALY)) is not None:
        batches.append((rule, autopay_anomaly_hits(rule)))
    if nightly and (rule := rules_by_code.get(RuleCode.CONTROLLER_APPROVER_PAIR)) is not None:
        batches.append((rule, pair_hits(rule, now)))
    if nightly and (rule := rules_by_code.get(RuleCode.BUDGET_WARN)) is not None:
        batches.append((rule, _budget_lines_above(rule)))
    for rule, hits in batches:
        for hit in hits:
            raised += services.alert_raise(rule=rule, hit=hit) is not None
    return raised


# --- after a raise: the budget rules tell the unit's signers ------------------------------------

BUDGET_RULES = frozenset({RuleCode.BUDGET_WARN, RuleCode.BUDGET_HIGH_USE})


def after_raise(alert: Alert) -> list[Notification]:
    """Inside the raise's transaction: a budget line above 80% or 90% is told to
    the unit's account holders and chief accountants (the outbox delivers it)."""
    if alert.rule.code not in BUDGET_RULES:
        return []
    from django.urls import reverse

    from payments.services.notifications import balance_recipients, notifications_write

    e = alert.evidence or {}
    title = _("Dòng dự toán %(line)s đã dùng %(used)s%%") % {"line": e.get("line", alert.subject),
                                                              "used": e.get("used_percent", "")}
    from treasury_portal.money import format_money

    body = _("Đã dùng %(used)s trên %(allocated)s của dòng dự toán %(line)s, vượt mức %(percent)s%%.") % {
        "used": format_money(e.get("used")), "allocated": format_money(e.get("allocated")),
        "line": e.get("line", alert.subject), "percent": e.get("percent", ""),
    }
    rows = [
        Notification(user_id=user_id, kind=NotificationKind.BALANCE_CHANGE, title=title[:255], body=body,
                     unit_id=alert.unit_id, voucher_id=alert.voucher_id,
                     data={"alert": alert.pk, "url": reverse("monitoring-alert", args=[alert.pk]),
                           # payments.selectors.notifications.notification_text words it in the reader's language
                           "budget_line": e.get("line", alert.subject), "used_percent": e.get("used_percent"),
                           "used": e.get("used"), "allocated": e.get("allocated"), "percent": e.get("percent")})
        for user_id in balance_recipients(alert.unit_id)
    ]
    return notifications_write(rows)
