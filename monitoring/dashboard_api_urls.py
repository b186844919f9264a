"""API of the leader dashboard, the public satisfaction figures and the
follow-ups (included by treasury_portal/urls.py under /api/v1/)."""

from monitoring import dashboard_apis as apis
from treasury_portal.api import api_path

F = "satisfaction/followups/<int:pk>"

urlpatterns = [
    *api_path("dashboard", apis.DashboardApi.as_view(), "api-dashboard"),
    *api_path("satisfaction", apis.PublicSatisfactionApi.as_view(), "api-satisfaction"),
    *api_path("satisfaction/followups", apis.FollowUpListApi.as_view(), "api-followups"),
    *api_path(F, apis.FollowUpApi.as_view(), "api-followup"),
    *api_path(f"{F}/assign", apis.FollowUpAssignApi.as_view(), "api-followup-assign"),
    *api_path(f"{F}/note", apis.FollowUpNoteApi.as_view(), "api-followup-note"),
    *api_path(f"{F}/close", apis.FollowUpCloseApi.as_view(), "api-followup-close"),
]
