"""API v1 of the reports: ask for an export (202, the task makes it), follow it
(status, rows done / total) and download its file when done. Each export is
its requester's (404 for anyone else). Thin: serializer → service/selector."""

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import role_permissions
from monitoring.reports import selectors, services
from monitoring.reports.models import ExportStatus, ReportExport, ReportFormat, ReportKind
from monitoring.reports.views import export_file_response
from payments.apis import FileDownloadApi, _paginate
from treasury_portal.access_policy import TREASURY, UNIT
from treasury_portal.api import NUMBERED_PAGE_PARAMETERS, PortalAPIView, paginated
from treasury_portal.errors import ApplicationError

UNIT_OR_TREASURY = UNIT | TREASURY


class ReportExportInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    format = serializers.ChoiceField(choices=ReportFormat.choices)
    fiscal_year = serializers.IntegerField(min_value=2000, max_value=2100)
    date_from = serializers.DateField(required=False, help_text="First day (default: 1 January of the fiscal year).")
    date_to = serializers.DateField(required=False, help_text="Last day, included (default: today). A period of more "
                                    "than a year ends a year after `date_from`; one ending before it starts is empty.")
    unit = serializers.RegexField(r"^[0-9A-Za-z]{1,20}$", required=False,
                                  help_text="One unit's code (404 outside your scope).")
    office = serializers.RegexField(r"^[0-9A-Za-z]{1,20}$", required=False,
                                    help_text="A treasury office's code: its units and those of the offices below "
                                    "(404 outside your scope).")


class ReportExportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    format = serializers.ChoiceField(choices=ReportFormat.choices)
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    params = serializers.JSONField(help_text="The filters: fiscal_year, date_from, date_to, unit, office.")
    rows_done = serializers.IntegerField()
    rows_total = serializers.IntegerField()
    percent = serializers.IntegerField()
    file_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_file_url(self, export: ReportExport) -> str | None:
        if export.status != ExportStatus.DONE:
            return None
        return reverse("api-report-file", args=[export.pk])


class ReportListApi(PortalAPIView):
    permission_classes = role_permissions(UNIT_OR_TREASURY)

    @extend_schema(operation_id="reports_list", responses=paginated(ReportExportSerializer),
                   parameters=[*NUMBERED_PAGE_PARAMETERS])
    def get(self, request: Request) -> Response:
        return _paginate(self, request, selectors.exports_of(request.user), ReportExportSerializer)

    @extend_schema(
        operation_id="reports_create", request=ReportExportInSerializer, responses={202: ReportExportSerializer},
        description="Ask for an export of a report (`expenditure`: by unit and budget classification — chapter, "
        "sector, economic-content code, funding source; `summary`: paid expenditure against the budget by treasury "
        "office; `revenue`: the state budget revenue collected in the period by budget level, chapter and "
        "economic-content code next to the expenditure paid in the period, with the balance) as CSV, XLSX or PDF. "
        "The file is made by a task: follow `GET /api/v1/reports/{id}` until "
        "`status` is `done`, then download `file_url`. 404 `not_found` for a unit or office outside your scope.",
    )
    def post(self, request: Request) -> Response:
        data = ReportExportInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        params = selectors.ReportParams.from_dict({**v, "date_from": v.get("date_from"), "date_to": v.get("date_to")})
        export = services.report_request(actor=request.user, kind=v["kind"], fmt=v["format"], params=params)
        export.refresh_from_db()
        return Response(ReportExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)


class ReportApi(PortalAPIView):
    permission_classes = role_permissions(UNIT_OR_TREASURY)

    @extend_schema(operation_id="reports_retrieve", responses=ReportExportSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ReportExportSerializer(selectors.access_export(request.user, pk)).data)


class ReportFileApi(FileDownloadApi):
    permission_classes = role_permissions(UNIT_OR_TREASURY)

    @extend_schema(
        operation_id="reports_file",
        responses={(200, "text/csv"): OpenApiTypes.BINARY, (200, "application/pdf"): OpenApiTypes.BINARY,
                   (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY},
        description="The export's file. 409 `report_not_ready` while it is being made (or when it failed).",
    )
    def get(self, request: Request, pk: int) -> Response:
        export = selectors.access_export(request.user, pk)
        if not selectors.can_download(request.user, export):
            raise ApplicationError("report_not_ready", _("Tệp báo cáo chưa lập xong."))
        return export_file_response(export)
