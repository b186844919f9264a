"""A follow-up of a "dissatisfied" rating: the office's leader assigns it to
an officer, who contacts the unit and notes it; a leader or the officer closes
it. Each step is a FollowUpEvent. Imported by monitoring.models."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class FollowUpStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("follow-up status", "Mới")
    IN_PROGRESS = "in_progress", _("Đang xử lý")
    CLOSED = "closed", _("Đã đóng")


# action -> (from statuses, to status)
FOLLOWUP_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "assign": (frozenset({FollowUpStatus.OPEN, FollowUpStatus.IN_PROGRESS}), FollowUpStatus.IN_PROGRESS),
    "note": (frozenset({FollowUpStatus.OPEN, FollowUpStatus.IN_PROGRESS}), FollowUpStatus.IN_PROGRESS),
    "close": (frozenset({FollowUpStatus.OPEN, FollowUpStatus.IN_PROGRESS}), FollowUpStatus.CLOSED),
}


class FollowUp(models.Model):
    rating = models.OneToOneField(
        "vouchers.Rating", on_delete=models.CASCADE, related_name="followup", verbose_name=_("đánh giá"),
    )
    voucher = models.ForeignKey(
        "vouchers.Voucher", on_delete=models.CASCADE, related_name="+", verbose_name=_("chứng từ"),
    )
    unit = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("đơn vị"),
    )
    office = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("kho bạc giao dịch"),
    )
    status = models.CharField(
        _("trạng thái"), max_length=20, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("cán bộ được giao"),
    )
    outcome = models.TextField(_("kết quả"), blank=True, max_length=4000)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    closed_at = models.DateTimeField(_("thời điểm đóng"), null=True, blank=True)

    class Meta:
        verbose_name = _("theo dõi phản ánh không hài lòng")
        verbose_name_plural = pgettext_lazy("plural", "theo dõi phản ánh không hài lòng")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in FollowUpStatus]), name="followup_status_known"
            ),
        ]
        indexes = [models.Index(fields=["office", "status"], name="followup_office_status")]

    def __str__(self) -> str:
        return f"{self.voucher_id}"


class FollowUpEvent(models.Model):
    followup = models.ForeignKey(
        FollowUp, on_delete=models.CASCADE, related_name="events", verbose_name=_("theo dõi"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người thực hiện"),
    )
    action = models.CharField(_("thao tác"), max_length=20)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("cán bộ được giao"),
    )
    from_status = models.CharField(_("từ trạng thái"), max_length=20, blank=True)
    to_status = models.CharField(_("sang trạng thái"), max_length=20)
    note = models.TextField(_("ghi chú"), blank=True)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)

    class Meta:
        verbose_name = _("diễn biến theo dõi")
        verbose_name_plural = pgettext_lazy("plural", "diễn biến theo dõi")
        ordering = ["followup", "created_at", "id"]
