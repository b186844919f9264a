"""The home page's section for the satisfaction follow-ups
(settings.PORTAL_HOME_SECTIONS): treasury staff over units with open follow-ups
see how many and, for the offices' leaders, the way to the dashboard."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.models import TREASURY_ROLES, Role


def followup_section(request: HttpRequest) -> dict | None:
    user = request.user
    if not user.is_authenticated or not account_selectors.has_role(user, *TREASURY_ROLES):
        return None
    from monitoring.models import FollowUpStatus
    from monitoring.satisfaction.selectors import followups_visible

    count = followups_visible(user).exclude(status=FollowUpStatus.CLOSED).count()
    leader = account_selectors.has_role(user, Role.APPROVER, Role.ADMINISTRATOR)
    if not count and not leader:
        return None
    items = [{"url": reverse("monitoring-dashboard"), "label": _("Bảng điều hành"), "note": ""}] if leader else []
    return {
        "title": _("Phản ánh không hài lòng"),
        "count": count,
        "text": _("phản ánh không hài lòng đang chờ liên hệ lại."),
        "url": f"{reverse('monitoring-followups')}?status=active",
        "items": items,
    }
