"""A requested export: what was asked (kind, format, filters), by whom, and how
far its task got (rows done / total), then the file in private storage."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    EXPENDITURE = "expenditure", _("Chi theo mục lục ngân sách")
    SUMMARY = "summary", _("Tổng hợp chi so với dự toán theo kho bạc")
    REVENUE = "revenue", _("Tổng hợp thu, chi ngân sách theo cấp ngân sách và mục lục")


class ReportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX (Excel)"
    PDF = "pdf", "PDF"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Đang chờ")
    RUNNING = "running", _("Đang lập")
    DONE = "done", _("Đã xong")
    FAILED = "failed", _("Lỗi")


class ReportExport(models.Model):
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("người yêu cầu"),
    )
    kind = models.CharField(_("loại báo cáo"), max_length=20, choices=ReportKind.choices)
    format = models.CharField(_("định dạng"), max_length=10, choices=ReportFormat.choices)
    params = models.JSONField(_("điều kiện lọc"), default=dict, blank=True)
    language = models.CharField(_("ngôn ngữ"), max_length=10, default="vi")
    status = models.CharField(_("trạng thái"), max_length=10, choices=ExportStatus.choices,
                              default=ExportStatus.QUEUED)
    rows_done = models.PositiveIntegerField(_("số dòng đã lập"), default=0)
    rows_total = models.PositiveIntegerField(_("tổng số dòng"), default=0)
    file = models.FileField(_("tệp"), upload_to="reports/", max_length=255, blank=True)
    error = models.CharField(_("lỗi"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("thời điểm yêu cầu"), auto_now_add=True)
    finished_at = models.DateTimeField(_("thời điểm xong"), null=True, blank=True)
    # Written when a worker takes the export and at every progress step: a
    # running export whose heartbeat is old lost its worker.
    heartbeat_at = models.DateTimeField(_("lần cuối ghi tiến độ"), null=True, blank=True)

    class Meta:
        app_label = "monitoring"
        ordering = ["-created_at", "-id"]
        verbose_name = _("báo cáo xuất tệp")
        verbose_name_plural = _("báo cáo xuất tệp")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["queued", "running", "done", "failed"]),
                                   name="report_export_status_known"),
            models.CheckConstraint(condition=Q(rows_done__lte=models.F("rows_total")) | Q(rows_total=0),
                                   name="report_export_progress_bounded"),
        ]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="report_export_by_user")]

    def __str__(self) -> str:
        return f"{self.kind}.{self.format} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return self.rows_done * 100 // self.rows_total if self.rows_total else 0

    @property
    def finished(self) -> bool:
        return self.status in {ExportStatus.DONE, ExportStatus.FAILED}
