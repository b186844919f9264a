"""Pages of the leader dashboard, the satisfaction follow-ups and the public
satisfaction page (included by treasury_portal/urls.py)."""

from django.urls import path

from monitoring import dashboard_views as views

F = "monitoring/followups/<int:pk>"

urlpatterns = [
    path("monitoring/dashboard/", views.dashboard_page, name="monitoring-dashboard"),
    path("satisfaction/", views.public_satisfaction, name="public-satisfaction"),
    path("monitoring/followups/", views.followup_list, name="monitoring-followups"),
    path(f"{F}/", views.followup_detail, name="monitoring-followup"),
    path(f"{F}/assign/", views.followup_action, {"action": "assign"}, name="monitoring-followup-assign"),
    path(f"{F}/note/", views.followup_action, {"action": "note"}, name="monitoring-followup-note"),
    path(f"{F}/close/", views.followup_action, {"action": "close"}, name="monitoring-followup-close"),
]
