"""Reads of the satisfaction follow-ups, scoped like the alerts: treasury staff
see the follow-ups of their office's units and of the offices below; another
organisation's follow-up is a 404. Units do not see them (they are the ones
who said they were dissatisfied)."""

from django.db.models import QuerySet

from accounts.models import TREASURY_ROLES, Role, User
from accounts.selectors import treasury_staff_over, unit_scope_q
from monitoring.models import FollowUp, FollowUpEvent, FollowUpStatus
from treasury_portal.errors import NotFound

ASSIGNABLE_ROLES = (Role.CONTROL_OFFICER, Role.APPROVER, Role.ADMINISTRATOR)


def followups_visible(user: User) -> QuerySet[FollowUp]:
    if not user.is_authenticated:
        return FollowUp.objects.none()
    return FollowUp.objects.filter(unit_scope_q(user, roles=set(TREASURY_ROLES)))


def followup_list(user: User, *, status: str | None = None) -> QuerySet[FollowUp]:
    """Newest first; `status` "active" (open or in progress) or one status."""
    qs = followups_visible(user).select_related("rating", "voucher", "unit", "office", "assignee")
    if status == "active":
        qs = qs.exclude(status=FollowUpStatus.CLOSED)
    elif status in FollowUpStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def access_followup(user: User, pk: int) -> FollowUp:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    found = followups_visible(user).select_related("rating", "voucher", "unit", "office", "assignee").filter(
        pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def followup_events(followup: FollowUp) -> QuerySet[FollowUpEvent]:
    return followup.events.select_related("actor", "assignee").order_by("created_at", "id")


def assignee_candidates(followup: FollowUp) -> QuerySet[User]:
    """The treasury staff over the follow-up's unit (who may be asked to call it)."""
    return treasury_staff_over(followup.unit, *ASSIGNABLE_ROLES)
