"""Risk rules (rows an administrator tunes), the alerts they raise, each
alert's life (AlertEvent) and the evaluation cursor over voucher events.

The app reads the others (vouchers, payments, accounts) through their models
and selectors; nothing there imports it (docs/architecture.md)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    LOW = "low", _("Thấp")
    MEDIUM = "medium", _("Trung bình")
    HIGH = "high", _("Cao")


class Monitored(models.TextChoices):
    """Who is watched by a rule, so who explains its alerts."""

    UNIT = "unit", _("Đơn vị sử dụng ngân sách")
    TREASURY = "treasury", _("Cán bộ kho bạc")


class RuleCode(models.TextChoices):
    """The rules that have a function (monitoring.rules); a row per code holds
    its thresholds, severity and whether it runs."""

    DUPLICATE_PAYMENT = "duplicate_payment", _("Có thể thanh toán trùng")
    FAST_CHECKLIST = "fast_checklist", _("Kiểm soát nhanh bất thường")
    BUDGET_HIGH_USE = "budget_high_use", _("Dự toán sắp hết")
    SECOND_RETURN = "second_return", _("Trả lại lần thứ hai")
    OVERDUE = "overdue", _("Chứng từ quá hạn hoặc sắp đến hạn")
    PAYEE_ACCOUNT_CHANGED = "payee_account_changed", _("Tài khoản người nhận thay đổi ngay trước khi thanh toán")
    CONTROLLER_APPROVER_PAIR = "controller_approver_pair", _("Một cặp kiểm soát – phê duyệt xử lý tỷ lệ bất thường")
    AUTOPAY_ANOMALY = "autopay_anomaly", _("Hóa đơn tự động có số tiền bất thường")
    BUDGET_WARN = "budget_warn", _("Dòng dự toán đã dùng trên 80%")


class RiskRule(models.Model):
    code = models.CharField(_("mã"), max_length=40, unique=True, choices=RuleCode.choices)
    name_vi = models.CharField(_("tên (tiếng Việt)"), max_length=255)
    name_en = models.CharField(_("tên (tiếng Anh)"), max_length=255)
    severity = models.CharField(_("mức độ"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    monitored = models.CharField(_("đối tượng giám sát"), max_length=10, choices=Monitored.choices,
                                 default=Monitored.UNIT)
    params = models.JSONField(_("ngưỡng"), default=dict, blank=True)
    enabled = models.BooleanField(_("đang áp dụng"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("quy tắc rủi ro")
        verbose_name_plural = _("quy tắc rủi ro")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The rule's name in the active language."""
        return self.name_en if (get_language() or "").startswith("en") else self.name_vi


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Mới")
    ACKNOWLEDGED = "acknowledged", _("Đã tiếp nhận")
    EXPLAINED = "explained", _("Đã giải trình")
    RESOLVED = "resolved", _("Đã xử lý xong")
    DISMISSED = "dismissed", _("Đã bỏ qua")


# The one table of allowed moves (action -> (from statuses, to status)).
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "acknowledge": (frozenset({AlertStatus.OPEN}), AlertStatus.ACKNOWLEDGED),
    "explain": (frozenset({AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.EXPLAINED}),
                AlertStatus.EXPLAINED),
    "resolve": (frozenset({AlertStatus.ACKNOWLEDGED, AlertStatus.EXPLAINED}), AlertStatus.RESOLVED),
    "dismiss": (frozenset({AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.EXPLAINED}),
                AlertStatus.DISMISSED),
}
ACTIVE_STATUSES = frozenset({AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.EXPLAINED})


class Alert(models.Model):
    """One hit of a rule. `key` names the hit (rule-specific: the voucher pair
    of a duplicate, the budget line…) so the same hit is never raised twice."""

    rule = models.ForeignKey(RiskRule, on_delete=models.PROTECT, related_name="alerts")
    key = models.CharField(max_length=120)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    monitored = models.CharField(max_length=10, choices=Monitored.choices, default=Monitored.UNIT)
    unit = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    voucher = models.ForeignKey(
        "vouchers.Voucher", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subject = models.CharField(max_length=255, help_text="The object concerned, when it is not a voucher.")
    evidence = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    explanation = models.TextField(blank=True, max_length=4000)
    resolution_note = models.TextField(blank=True, max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "key"], name="alert_one_per_hit"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in AlertStatus]), name="alert_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "-created_at", "-id"], name="alert_unit_list"),
            models.Index(fields=["voucher", "status"], name="alert_voucher_status"),
        ]

    def __str__(self) -> str:
        return f"{self.rule.code} {self.key}"


class AlertEvent(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["alert", "created_at", "id"]


class EvaluationCursor(models.Model):
    """The high-water mark of the voucher events already evaluated."""

    name = models.CharField(max_length=40, unique=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


# The reports' export rows live with their code (monitoring/reports/).
# The satisfaction follow-ups (issue 12), in a module of their own.
from monitoring.models_daily import (  # noqa: E402, F401
    BUCKET_SECONDS,
    DailyOfficeFigures,
    DailyOfficeReason,
    DailyOfficerFigures,
    DailyOfficeTiming,
)
from monitoring.models_satisfaction import (  # noqa: E402, F401
    FOLLOWUP_TRANSITIONS,
    FollowUp,
    FollowUpEvent,
    FollowUpStatus,
)
from monitoring.reports.models import ReportExport  # noqa: E402, F401
