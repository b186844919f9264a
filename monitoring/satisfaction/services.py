"""Writes of the satisfaction follow-ups: opening one per "dissatisfied" rating
(a task reads the ratings: vouchers/ knows nothing of it), assigning it,
noting a contact, closing it; each one transaction with the row locked and a
FollowUpEvent. The `can_*` predicates tell the buttons."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, User
from accounts.selectors import treasury_staff_over, user_has_treasury_role_over
from monitoring.models import FOLLOWUP_TRANSITIONS, FollowUp, FollowUpEvent, FollowUpStatus
from monitoring.satisfaction.selectors import ASSIGNABLE_ROLES
from monitoring.services import NOTE_MAX, clean_note  # noqa: F401 - NOTE_MAX: the follow-up pages read it here
from treasury_portal.errors import PermissionDenied, ValidationFailed
from treasury_portal.workflow import Workflow
from vouchers.models import Rating

LEADER_ROLES = (Role.APPROVER, Role.ADMINISTRATOR)


# The follow-up's workflow (treasury_portal.workflow: the row lock, the
# transition table, the event row with the assignee of the moment).
FLOW = Workflow(
    model=FollowUp, transitions=FOLLOWUP_TRANSITIONS, event_model=FollowUpEvent, event_fk="followup",
    invalid=gettext_lazy("Việc theo dõi đang ở trạng thái “%(status)s”: không thể thực hiện thao tác này."),
    save_updated_at=False, event_defaults=lambda followup: {"assignee": followup.assignee},
)
_allowed = FLOW.allows


def _leads(user: User, followup: FollowUp) -> bool:
    return user_has_treasury_role_over(user, followup.unit, *LEADER_ROLES)


def can_assign(user: User, followup: FollowUp) -> bool:
    """The office's leaders (approvers, administrators over the unit) assign it."""
    return _allowed(followup, "assign") and _leads(user, followup)


def can_note(user: User, followup: FollowUp) -> bool:
    """The assigned officer or a leader writes down a contact with the unit."""
    return _allowed(followup, "note") and (followup.assignee_id == user.pk or _leads(user, followup))


def can_close(user: User, followup: FollowUp) -> bool:
    return _allowed(followup, "close") and (followup.assignee_id == user.pk or _leads(user, followup))


CAN = {"assign": can_assign, "note": can_note, "close": can_close}


def allowed_actions(user: User, followup: FollowUp) -> set[str]:
    return {action for action, can in CAN.items() if can(user, followup)}


# --- opening ----------------------------------------------------------------------


def followups_open_new(*, limit: int = 500) -> int:
    """A follow-up for each "dissatisfied" rating that has none (safe to run
    again: one per rating, the unique rating key decides). Returns how many opened."""
    opened = 0
    ratings = Rating.objects.filter(score=Rating.Score.DISSATISFIED, followup__isnull=True).select_related(
        "voucher", "voucher__unit").order_by("id")[:limit]
    for rating in ratings:
        try:
            with transaction.atomic():
                followup = FollowUp.objects.create(
                    rating=rating, voucher=rating.voucher, unit_id=rating.voucher.unit_id,
                    office_id=rating.voucher.office_id,
                )
                FLOW.event(followup, actor=None, action="open", from_status="", to_status=FollowUpStatus.OPEN,
                           note=rating.comment)
                _notify_opened(followup, rating)
        except IntegrityError:
            continue
        opened += 1
    return opened


def _notify_opened(followup: FollowUp, rating: Rating) -> None:
    """The office's leaders (the approvers over the unit) are told, in the same
    transaction, through the notification outbox (their preferences decide the
    channels); the stored texts are in the portal's language (e-mail, SMS), the
    centre shows the reader's."""
    from payments.models import Notification, NotificationKind
    from payments.selectors.notifications import followup_opened_text
    from payments.services.notifications import notifications_write

    voucher = rating.voucher
    leaders = list(treasury_staff_over(voucher.unit, Role.APPROVER).values_list("pk", flat=True))
    if not leaders:
        return
    data = {
        "followup_id": followup.pk, "voucher_id": voucher.pk, "voucher_number": voucher.number,
        "unit_name": voucher.unit.name, "comment": (rating.comment or "")[:500],
        "url": reverse("monitoring-followup", args=[followup.pk]),
    }
    with translation.override(settings.LANGUAGE_CODE):
        text = followup_opened_text(data)
    notifications_write([
        Notification(user_id=user_id, kind=NotificationKind.SATISFACTION_FOLLOWUP, title=text["title"][:255],
                     body=text["body"], data=data, unit_id=followup.unit_id, voucher_id=voucher.pk)
        for user_id in leaders
    ])


# --- its life ------------------------------------------------------------------------


_clean = clean_note  # monitoring.services: the same rule for an alert's note


def _move(actor: User, followup: FollowUp | int, action: str, note: str, **changes: object) -> FollowUp:
    with transaction.atomic():
        followup = FLOW.lock(followup)
        FLOW.check(followup, action)
        if not CAN[action](actor, followup):
            raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này."))
        FLOW.move(followup, action, actor=actor, fields=changes, note=note)
    return followup


def followup_assign(*, actor: User, followup: FollowUp | int, assignee: User | None, note: str = "") -> FollowUp:
    """A leader gives the follow-up to one of the treasury staff over the unit."""
    note = _clean(note, required=False)
    target = followup if isinstance(followup, FollowUp) else FollowUp.objects.select_related("unit").get(pk=followup)
    if assignee is None or not user_has_treasury_role_over(assignee, target.unit, *ASSIGNABLE_ROLES):
        raise ValidationFailed(
            _("Chọn một cán bộ kho bạc phụ trách đơn vị này."), fields={"assignee": [_("Không hợp lệ.")]}
        )
    return _move(actor, target, "assign", note, assignee=assignee)


def followup_note(*, actor: User, followup: FollowUp | int, note: str) -> FollowUp:
    """A contact with the unit (call, visit, letter) and what was said."""
    return _move(actor, followup, "note", _clean(note, required=True))


def followup_close(*, actor: User, followup: FollowUp | int, note: str) -> FollowUp:
    note = _clean(note, required=True)
    return _move(actor, followup, "close", note, outcome=note, closed_at=timezone.now())
