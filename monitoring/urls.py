from django.urls import path

from monitoring import views

A = "monitoring/alerts/<int:pk>"

urlpatterns = [
    path("monitoring/alerts/", views.alert_list, name="monitoring-alerts"),
    path(f"{A}/", views.alert_detail, name="monitoring-alert"),
    path(f"{A}/acknowledge/", views.alert_action, {"action": "acknowledge"}, name="monitoring-alert-acknowledge"),
    path(f"{A}/explain/", views.alert_action, {"action": "explain"}, name="monitoring-alert-explain"),
    path(f"{A}/resolve/", views.alert_action, {"action": "resolve"}, name="monitoring-alert-resolve"),
    path(f"{A}/dismiss/", views.alert_action, {"action": "dismiss"}, name="monitoring-alert-dismiss"),
]

# The reports (monitoring/reports/urls.py).
from monitoring.reports.urls import urlpatterns as report_urlpatterns  # noqa: E402

urlpatterns += report_urlpatterns
