from monitoring.reports import apis
from treasury_portal.api import api_path

urlpatterns = [
    *api_path("reports", apis.ReportListApi.as_view(), "api-reports"),
    *api_path("reports/<int:pk>", apis.ReportApi.as_view(), "api-report"),
    *api_path("reports/<int:pk>/file", apis.ReportFileApi.as_view(), "api-report-file"),
]
