from django.urls import path

from monitoring.reports import views

urlpatterns = [
    path("monitoring/reports/", views.reports, name="monitoring-reports"),
    path("monitoring/reports/export/", views.report_export, name="monitoring-report-create"),
    path("monitoring/reports/<int:pk>/", views.report_detail, name="monitoring-report"),
    path("monitoring/reports/<int:pk>/status/", views.report_status, name="monitoring-report-status"),
    path("monitoring/reports/<int:pk>/file/", views.report_file, name="monitoring-report-file"),
]
