"""Writes of the monitoring app: evaluating the rules (raising alerts, once
per hit) and each alert's life, with the `can_*` predicates that tell the
buttons. Reads the vouchers' and budgets' rows through their models; nothing
in vouchers/ or payments/ calls this module (the voucher hot path is left
alone: monitoring.tasks reads the voucher events after a cursor)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import TREASURY_ROLES, UNIT_ROLES, Role, User
from accounts.selectors import user_has_treasury_role_over, user_has_unit_role
from monitoring import rule_checks, rules
from monitoring.models import (
    TRANSITIONS,
    Alert,
    AlertEvent,
    AlertStatus,
    EvaluationCursor,
    Monitored,
    RiskRule,
    RuleCode,
)
from payments.models import BudgetLine
from treasury_portal.errors import PermissionDenied, ValidationFailed
from treasury_portal.workflow import Workflow
from vouchers.models import Voucher, VoucherEvent, VoucherStatus
from vouchers.selectors import RUNNING

CURSOR = "voucher_events"
# Vouchers that never pay: a duplicate of one of them is no risk.
NOT_PAYING = frozenset({VoucherStatus.DRAFT, VoucherStatus.WITHDRAWN, VoucherStatus.REFUSED})
LEADER_ROLES = (Role.APPROVER, Role.ADMINISTRATOR)
NOTE_MAX = 4000


# --- who may do what -----------------------------------------------------------------


# The alert's workflow (treasury_portal.workflow: the row lock, the transition
# table, the event row), the engine the vouchers and autopay use too.
FLOW = Workflow(
    model=Alert, transitions=TRANSITIONS, event_model=AlertEvent, event_fk="alert",
    invalid=gettext_lazy("Cảnh báo đang ở trạng thái “%(status)s”: không thể thực hiện thao tác này."),
)
_allowed = FLOW.allows


def can_acknowledge(user: User, alert: Alert) -> bool:
    """Treasury staff over the alert's unit take it in hand."""
    return _allowed(alert, "acknowledge") and user_has_treasury_role_over(user, alert.unit, *TREASURY_ROLES)


def can_explain(user: User, alert: Alert) -> bool:
    """The monitored side writes the explanation: the unit's people for a rule
    on units, the control officers over the unit for a rule on the treasury."""
    if not _allowed(alert, "explain"):
        return False
    if alert.monitored == Monitored.UNIT:
        return user_has_unit_role(user, alert.unit, *UNIT_ROLES)
    return user_has_treasury_role_over(user, alert.unit, Role.CONTROL_OFFICER)


def can_resolve(user: User, alert: Alert) -> bool:
    """A leader (approver or administrator over the unit) closes it."""
    return _allowed(alert, "resolve") and user_has_treasury_role_over(user, alert.unit, *LEADER_ROLES)


def can_dismiss(user: User, alert: Alert) -> bool:
    return _allowed(alert, "dismiss") and user_has_treasury_role_over(user, alert.unit, *LEADER_ROLES)


CAN = {"acknowledge": can_acknowledge, "explain": can_explain, "resolve": can_resolve, "dismiss": can_dismiss}


def allowed_actions(user: User, alert: Alert) -> set[str]:
    return {action for action, can in CAN.items() if can(user, alert)}


# --- the life of an alert ---------------------------------------------------------------


def clean_note(note: str, *, required: bool) -> str:
    """The note of a step (an alert's, a follow-up's): trimmed, required when asked, at most NOTE_MAX."""
    note = (note or "").strip()
    if required and not note:
        raise ValidationFailed(_("Hãy ghi nội dung."), fields={"note": [_("Hãy ghi nội dung.")]})
    if len(note) > NOTE_MAX:
        raise ValidationFailed(
            _("Nội dung dài quá %(n)s ký tự.") % {"n": NOTE_MAX}, fields={"note": [_("Nội dung quá dài.")]}
        )
    return note


def _move(actor: User, alert: Alert | int, action: str, *, note: str = "", required: bool = False) -> Alert:
    note = clean_note(note, required=required)
    with transaction.atomic():
        alert = FLOW.lock(alert)
        FLOW.check(alert, action)
        if not CAN[action](actor, alert):
            raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này với cảnh báo."))
        fields = {"explanation": note} if action == "explain" else (
            {"resolution_note": note} if action in {"resolve", "dismiss"} else {}
        )
        FLOW.move(alert, action, actor=actor, fields=fields, note=note)
    return alert


def alert_acknowledge(*, actor: User, alert: Alert | int, note: str = "") -> Alert:
    return _move(actor, alert, "acknowledge", note=note)


def alert_explain(*, actor: User, alert: Alert | int, explanation: str) -> Alert:
    return _move(actor, alert, "explain", note=explanation, required=True)


def alert_resolve(*, actor: User, alert: Alert | int, note: str) -> Alert:
    return _move(actor, alert, "resolve", note=note, required=True)


def alert_dismiss(*, actor: User, alert: Alert | int, note: str) -> Alert:
    return _move(actor, alert, "dismiss", note=note, required=True)


# --- raising ---------------------------------------------------------------------------


@dataclass
class Hit:
    key: str
    unit_id: int
    voucher_id: int | None
    subject: str
    evidence: dict[str, Any] = field(default_factory=dict)


def alert_raise(*, rule: RiskRule, hit: Hit) -> Alert | None:
    """The alert for this hit, once: None when it was raised before (the unique
    (rule, key) constraint decides, also between two evaluators)."""
    if Alert.objects.filter(rule=rule, key=hit.key).exists():
        return None
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule, key=hit.key[:120], severity=rule.severity, monitored=rule.monitored, unit_id=hit.unit_id,
                voucher_id=hit.voucher_id, subject=hit.subject[:255], evidence=hit.evidence,
            )
            FLOW.event(alert, actor=None, action="raise", from_status="", to_status=AlertStatus.OPEN)
            rule_checks.after_raise(alert)  # the budget rules tell the unit's signers
    except IntegrityError:
        return None
    return alert


def rules_ensure() -> None:
    """The rule rows of the data migration, when none exist (a flushed test database)."""
    if RiskRule.objects.exists():
        return
    for code, name_vi, name_en, severity, monitored, params in rules.SEEDS:
        RiskRule.objects.get_or_create(code=code, defaults={
            "name_vi": name_vi, "name_en": name_en, "severity": severity, "monitored": monitored, "params": params,
        })


def enabled_rules() -> dict[str, RiskRule]:
    rules_ensure()
    return {r.code: r for r in RiskRule.objects.filter(enabled=True)}


def _at(voucher: Any) -> datetime:
    return voucher.received_at or voucher.created_at


def _payment(voucher: Any) -> rules.Payment:
    return rules.Payment(voucher.pk, voucher.payee_account, voucher.payee_bank_id, voucher.total_amount, _at(voucher))


def _duplicate_hits(voucher: Voucher, rule: RiskRule) -> list[Hit]:
    if voucher.status in NOT_PAYING or not voucher.payee_account or voucher.total_amount <= 0:
        return []
    days = rules.param(rule.params, rule.code, "days")
    at = _at(voucher)
    # A voucher received within the window was created before its end; the
    # rule itself (rules.is_possible_duplicate) decides on the received times.
    others = list(
        Voucher.objects.filter(
            payee_account=voucher.payee_account, payee_bank_id=voucher.payee_bank_id,
            total_amount=voucher.total_amount, created_at__lte=at + timedelta(days=days + 1),
        )
        .exclude(pk=voucher.pk)
        .exclude(status__in=NOT_PAYING)
        .select_related("unit", "payee_bank")
    )
    hits = []
    for other in others:
        if not rules.is_possible_duplicate(_payment(voucher), _payment(other), days):
            continue
        # The later of the two is the one that would pay twice: the alert is on it.
        first, later = sorted([voucher, other], key=lambda v: (_at(v), v.pk))
        hits.append(Hit(
            key=f"{min(voucher.pk, other.pk)}-{max(voucher.pk, other.pk)}", unit_id=later.unit_id,
            voucher_id=later.pk, subject=later.number,
            evidence={
                "voucher": later.number, "other_voucher": first.number, "other_voucher_id": first.pk,
                "other_unit": f"{first.unit.code} – {first.unit.name}", "amount": voucher.total_amount,
                "account": voucher.payee_account, "payee": voucher.payee_name,
                "bank": voucher.payee_bank.name if voucher.payee_bank_id else "",
                "days_apart": abs((_at(later) - _at(first)).days), "days": days,
            },
        ))
    return hits


def _fast_checklist_hits(voucher: Voucher, rule: RiskRule) -> list[Hit]:
    events = list(
        VoucherEvent.objects.filter(voucher=voucher, action__in=["claim", "pass"]).select_related("actor")
        .order_by("created_at", "id")
    )
    min_seconds = rules.param(rule.params, rule.code, "min_seconds")
    per_item = rules.param(rule.params, rule.code, "seconds_per_item")
    hits, claimed_at = [], None
    for event in events:
        if event.action == "claim":
            claimed_at = event.created_at
            continue
        if claimed_at is None:
            continue
        items = len(event.data.get("checklist") or [])
        seconds = (event.created_at - claimed_at).total_seconds()
        if rules.passed_too_fast(seconds, items, min_seconds, per_item):
            officer = (event.actor.get_full_name() or event.actor.username) if event.actor else ""
            hits.append(Hit(
                key=f"{voucher.pk}:{event.pk}", unit_id=voucher.unit_id, voucher_id=voucher.pk, subject=voucher.number,
                evidence={"voucher": voucher.number, "seconds": int(seconds), "items": items, "officer": officer,
                          "minimum": rules.plausible_minimum(items, min_seconds, per_item)},
            ))
        claimed_at = None
    return hits


def _second_return_hits(voucher: Voucher, rule: RiskRule) -> list[Hit]:
    allowed = rules.param(rule.params, rule.code, "max_returns")
    if not rules.returned_too_often(voucher.return_count, allowed):
        return []
    return [Hit(
        key=f"{voucher.pk}:{voucher.return_count}", unit_id=voucher.unit_id, voucher_id=voucher.pk,
        subject=voucher.number, evidence={"voucher": voucher.number, "returns": voucher.return_count,
                                          "allowed": allowed},
    )]


def _line_label(line: BudgetLine) -> str:
    return f"{line.chapter}.{line.sector}.{line.ndkt}.{line.funding_source} ({line.fiscal_year})"


def budget_line_hit(line: BudgetLine, rule: RiskRule, voucher: Voucher | None = None) -> Hit | None:
    percent = rules.param(rule.params, rule.code, "percent")
    if not rules.budget_above(line.allocated, line.reserved, line.spent, percent):
        return None
    return Hit(
        key=f"{line.pk}:{percent}", unit_id=line.unit_id, voucher_id=voucher.pk if voucher else None,
        subject=_line_label(line),
        evidence={"line": _line_label(line), "name": line.name, "percent": percent,
                  "used_percent": rules.used_percent(line.allocated, line.reserved, line.spent),
                  "allocated": line.allocated, "used": line.reserved + line.spent,
                  "voucher": voucher.number if voucher else ""},
    )


def _budget_hits(voucher: Voucher, rule: RiskRule) -> list[Hit]:
    lines = BudgetLine.objects.filter(voucher_lines__voucher=voucher).distinct()
    return [h for h in (budget_line_hit(line, rule, voucher) for line in lines) if h]


def overdue_hit(voucher: Voucher, rule: RiskRule, now: datetime) -> Hit | None:
    if voucher.status not in RUNNING:
        return None
    state = rules.due_state(now, voucher.due_at, rules.param(rule.params, rule.code, "near_hours"))
    if not state:
        return None
    return Hit(
        key=f"{voucher.pk}:{state}", unit_id=voucher.unit_id, voucher_id=voucher.pk, subject=voucher.number,
        evidence={"voucher": voucher.number, "state": state, "due_at": voucher.due_at.isoformat()},
    )


def _overdue_hits(voucher: Voucher, rule: RiskRule, now: datetime) -> list[Hit]:
    hit = overdue_hit(voucher, rule, now)
    return [hit] if hit else []


def evaluate_voucher(voucher_id: int, *, rules_by_code: dict[str, RiskRule] | None = None,
                     now: datetime | None = None) -> list[Alert]:
    """Every enabled rule on one voucher; the alerts newly raised (safe to run again)."""
    now = now or timezone.now()
    rules_by_code = enabled_rules() if rules_by_code is None else rules_by_code
    voucher = Voucher.objects.filter(pk=voucher_id).select_related("unit").first()
    if voucher is None or not rules_by_code:
        return []
    checks = {
        RuleCode.DUPLICATE_PAYMENT: _duplicate_hits,
        RuleCode.FAST_CHECKLIST: _fast_checklist_hits,
        RuleCode.SECOND_RETURN: _second_return_hits,
        RuleCode.BUDGET_HIGH_USE: _budget_hits,
        RuleCode.OVERDUE: lambda v, r: _overdue_hits(v, r, now),
        **rule_checks.VOUCHER_CHECKS,
    }
    raised = []
    for code, check in checks.items():
        rule = rules_by_code.get(code)
        if rule is None:
            continue
        for hit in check(voucher, rule):
            alert = alert_raise(rule=rule, hit=hit)
            if alert is not None:
                raised.append(alert)
    return raised


def evaluate_new_events(*, batch: int = 500, batches: int = 20) -> int:
    """The vouchers with events after the cursor, each evaluated once; the
    cursor moves past them in the same transaction (one evaluator at a time:
    the cursor row is locked). Returns the number of vouchers evaluated."""
    evaluated = 0
    rules_by_code = enabled_rules()
    for _n in range(batches):
        with transaction.atomic():
            EvaluationCursor.objects.get_or_create(name=CURSOR)
            cursor = EvaluationCursor.objects.select_for_update().get(name=CURSOR)
            rows = list(
                VoucherEvent.objects.filter(pk__gt=cursor.last_event_id).order_by("pk").values_list("pk", "voucher_id")[
                    :batch
                ]
            )
            if not rows:
                return evaluated
            for voucher_id in dict.fromkeys(v for _pk, v in rows):
                evaluate_voucher(voucher_id, rules_by_code=rules_by_code)
                evaluated += 1
            cursor.last_event_id = rows[-1][0]
            cursor.save(update_fields=["last_event_id", "updated_at"])
        if len(rows) < batch:
            break
    return evaluated


def sweep(*, now: datetime | None = None, lookback: timedelta = timedelta(days=2)) -> int:
    """The nightly pass: overdue and near-due vouchers, budget lines above their
    threshold, and again every voucher with an event in `lookback` (an event
    committed after a later one moved the cursor is caught here). Returns the
    number of alerts raised."""
    now = now or timezone.now()
    rules_by_code = enabled_rules()
    raised = 0
    overdue = rules_by_code.get(RuleCode.OVERDUE)
    if overdue is not None:
        horizon = now + timedelta(hours=rules.param(overdue.params, overdue.code, "near_hours"))
        for voucher in Voucher.objects.filter(status__in=RUNNING, due_at__lte=horizon).iterator():
            hit = overdue_hit(voucher, overdue, now)
            raised += bool(hit and alert_raise(rule=overdue, hit=hit))
    budget = rules_by_code.get(RuleCode.BUDGET_HIGH_USE)
    if budget is not None:
        percent = rules.param(budget.params, budget.code, "percent")
        lines = BudgetLine.objects.filter(allocated__gt=0).alias(
            used100=(F("reserved") + F("spent")) * 100, limit100=F("allocated") * percent
        ).filter(used100__gt=F("limit100"))
        for line in lines.iterator():
            hit = budget_line_hit(line, budget)
            raised += bool(hit and alert_raise(rule=budget, hit=hit))
    raised += rule_checks.sweep_more(rules_by_code, now)
    recent = VoucherEvent.objects.filter(created_at__gte=now - lookback).values_list("voucher_id", flat=True)
    for voucher_id in sorted(set(recent)):
        raised += len(evaluate_voucher(voucher_id, rules_by_code=rules_by_code, now=now))
    return raised


def cursor_start_now() -> int:
    """Watch from the newest event on (a fresh installation over old data: the
    sweep, not the minute task, looks back)."""
    last = VoucherEvent.objects.aggregate(m=Max("pk"))["m"] or 0
    EvaluationCursor.objects.update_or_create(name=CURSOR, defaults={"last_event_id": last})
    return last
