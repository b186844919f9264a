from monitoring import apis
from treasury_portal.api import api_path

A = "alerts/<int:pk>"

urlpatterns = [
    *api_path("alerts", apis.AlertListApi.as_view(), "api-alerts"),
    *api_path(A, apis.AlertApi.as_view(), "api-alert"),
    *api_path(f"{A}/acknowledge", apis.AlertAcknowledgeApi.as_view(), "api-alert-acknowledge"),
    *api_path(f"{A}/explain", apis.AlertExplainApi.as_view(), "api-alert-explain"),
    *api_path(f"{A}/resolve", apis.AlertResolveApi.as_view(), "api-alert-resolve"),
    *api_path(f"{A}/dismiss", apis.AlertDismissApi.as_view(), "api-alert-dismiss"),
]

# The reports (monitoring/reports/api_urls.py).
from monitoring.reports.api_urls import urlpatterns as report_urlpatterns  # noqa: E402

urlpatterns += report_urlpatterns
