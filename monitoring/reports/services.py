"""Writes of the reports: asking for an export (a row, its task queued when the
row commits) and the task's work (the rows read in the requester's scope and
language, written in chunks with the progress on the row, the file saved in
private storage). Safe to run twice: a finished export is left alone."""

import logging
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import TREASURY_ROLES, UNIT_ROLES, User
from accounts.selectors import has_role
from monitoring.reports import render
from monitoring.reports.models import ExportStatus, ReportExport, ReportFormat, ReportKind
from monitoring.reports.selectors import ReportParams, export_filename, report_lines, report_rows
from treasury_portal.errors import PermissionDenied, ValidationFailed

logger = logging.getLogger(__name__)

# Progress is written to the row every CHUNK rows (one small UPDATE each).
CHUNK = 200
# A queued export older than this was lost by the broker: the sweep queues it again.
LOST_AFTER = timedelta(minutes=2)
# Running with no progress written for this long: the worker died; the sweep
# queues it again and the next task may take it over.
STALE_AFTER = timedelta(minutes=15)
MAX_DAYS = 366


def can_request_reports(user: User) -> bool:
    return bool(user.is_authenticated) and has_role(user, *UNIT_ROLES, *TREASURY_ROLES)


def _validate(kind: str, fmt: str, params: ReportParams) -> None:
    errors: dict[str, list[str]] = {}
    if kind not in ReportKind.values:
        errors["kind"] = [_("Loại báo cáo không hợp lệ.")]
    if fmt not in ReportFormat.values:
        errors["format"] = [_("Định dạng không hợp lệ.")]
    if not 2000 <= params.fiscal_year <= 2100:
        errors["fiscal_year"] = [_("Năm ngân sách không hợp lệ.")]
    if errors:
        raise ValidationFailed(_("Yêu cầu báo cáo không hợp lệ."), fields=errors)


def report_request(*, actor: User, kind: str, fmt: str, params: ReportParams) -> ReportExport:
    """An export of the report for `actor`: the unit or office filter is
    checked against the actor's scope now (404 outside it), the rows are read
    by the task. A period of more than a year ends a year after its start;
    a period that ends before it starts has no movements (an empty period)."""
    if not can_request_reports(actor):
        raise PermissionDenied(_("Bạn không có quyền lập báo cáo."))
    _validate(kind, fmt, params)
    if (params.date_to - params.date_from).days > MAX_DAYS:
        params = ReportParams(params.fiscal_year, params.date_from, params.date_from + timedelta(days=MAX_DAYS),
                              params.unit, params.office)
    report_lines(actor, params)  # the scope check: NotFound for a unit or office outside it
    with transaction.atomic():
        export = ReportExport.objects.create(
            requested_by=actor, kind=kind, format=fmt, params=params.as_dict(),
            language=(translation.get_language() or "vi")[:2],
        )
        transaction.on_commit(lambda: _queue_generate(export.pk))
    return export


def _queue_generate(export_id: int) -> None:
    from monitoring.tasks import generate_report
    from payments.tasks import enqueue

    enqueue(generate_report, export_id)


def _claim(export_id: int) -> ReportExport | None:
    """Take a queued export, or a running one whose worker stopped writing its
    heartbeat; a second delivery of the task while a worker is at it gets None."""
    now = timezone.now()
    with transaction.atomic():
        export = (
            ReportExport.objects.select_for_update(skip_locked=True)
            .filter(_claimable(now), pk=export_id)
            .first()
        )
        if export is None:
            return None
        export.status = ExportStatus.RUNNING
        export.rows_done = 0
        export.heartbeat_at = now
        export.save(update_fields=["status", "rows_done", "heartbeat_at"])
        return export


def _claimable(now: datetime) -> Q:
    return Q(status=ExportStatus.QUEUED) | Q(
        Q(heartbeat_at__lt=now - STALE_AFTER) | Q(heartbeat_at__isnull=True), status=ExportStatus.RUNNING
    )


def _progress(export: ReportExport, done: int, total: int) -> None:
    ReportExport.objects.filter(pk=export.pk).update(
        rows_done=min(done, total), rows_total=total, heartbeat_at=timezone.now()
    )


def report_generate(export_id: int) -> str:
    """The task's work; returns the export's status (or "skipped")."""
    export = _claim(export_id)
    if export is None:
        return "skipped"
    try:
        with translation.override(export.language or "vi"):
            params = ReportParams.from_dict(export.params)
            rows = report_rows(export.requested_by, export.kind, params)
            _progress(export, 0, len(rows))
            data = render.render(
                export.kind, export.format, params, rows,
                progress=lambda done: _progress(export, done, len(rows)), chunk=CHUNK,
            )
        export.file.save(export_filename(export), ContentFile(data), save=False)
        export.status = ExportStatus.DONE
        export.rows_done = export.rows_total = len(rows)
        export.finished_at = timezone.now()
        export.save(update_fields=["file", "status", "rows_done", "rows_total", "finished_at"])
    except Exception as exc:
        logger.exception("report export %s failed", export_id)
        export.status = ExportStatus.FAILED
        export.error = type(exc).__name__[:255]
        export.finished_at = timezone.now()
        export.save(update_fields=["status", "error", "finished_at"])
    return export.status


def report_exports_sweep(*, now: object = None) -> int:
    """Queue again the exports whose message was lost (still queued) or whose
    worker died (running, untouched for long)."""
    now = now or timezone.now()
    lost = ReportExport.objects.filter(status=ExportStatus.QUEUED, created_at__lt=now - LOST_AFTER)
    stale = ReportExport.objects.filter(status=ExportStatus.RUNNING).filter(
        Q(heartbeat_at__lt=now - STALE_AFTER) | Q(heartbeat_at__isnull=True)
    )
    ids = list(lost.values_list("pk", flat=True)[:100]) + list(stale.values_list("pk", flat=True)[:100])
    for pk in ids:
        _queue_generate(pk)
    return len(ids)
