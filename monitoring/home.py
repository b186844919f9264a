"""The home page's monitoring section (settings.PORTAL_HOME_SECTIONS): treasury
staff see the active alerts of their offices by rule; a unit its own."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.models import TREASURY_ROLES, UNIT_ROLES


def treasury_section(request: HttpRequest) -> dict | None:
    user = request.user
    if not user.is_authenticated or not account_selectors.has_role(user, *TREASURY_ROLES, *UNIT_ROLES):
        return None
    from monitoring.selectors import open_alerts_by_rule

    by_rule = open_alerts_by_rule(user)
    url = reverse("monitoring-alerts")
    return {
        "title": _("Cảnh báo rủi ro"),
        "count": sum(r["count"] for r in by_rule),
        "text": _("cảnh báo đang mở cần xem xét."),
        "url": f"{url}?status=active",
        "items": [
            {"url": f"{url}?status=active&rule={r['rule'].code}", "label": f"{r['name']}: {r['count']}", "note": ""}
            for r in by_rule
        ],
    }
