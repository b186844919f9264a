"""The notification bell in the header of every page (templates/base.html)."""

from django.http import HttpRequest
from django.urls import reverse


def notifications(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from payments.selectors.notifications import unread_count

    return {
        "notifications_url": reverse("notifications"),
        "notifications_badge_url": reverse("notifications-badge"),
        # A callable: the template calls it (one COUNT) only where the bell is shown.
        "unread_count": lambda: unread_count(user),
    }
