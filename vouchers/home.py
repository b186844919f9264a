"""The vouchers' part of the home page: what the signed-in user can act on now.

Preparers: drafts and vouchers returned for supplement; signers: vouchers
waiting for their signature; control officers: the queue with overdue and
due-soon counts; approvers: what awaits approval. A few counting queries,
whatever the number of vouchers.
"""

from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.models import UNIT_ROLES, Role
from vouchers import selectors
from vouchers.models import EDITABLE_STATUSES, Signature, VoucherStatus

LISTED = 5


def _item(url: str, label: str, note: str = "") -> dict:
    return {"url": url, "label": label, "note": note}


def _unit_items(request: HttpRequest) -> tuple[int, list[dict]]:
    user = request.user
    units = [m.organisation_id for m in account_selectors.memberships_of(user) if m.role in UNIT_ROLES]
    if not units:
        return 0, []
    mine = selectors.vouchers_visible(user).filter(unit_id__in=units)
    counts = mine.aggregate(
        drafts=Count("pk", filter=Q(status=VoucherStatus.DRAFT)),
        returned=Count("pk", filter=Q(status=VoucherStatus.RETURNED)),
    )
    list_url = reverse("voucher-list")
    items = []
    if counts["returned"]:
        items.append(
            _item(f"{list_url}?status=returned", _("Bị trả lại, cần bổ sung: %(n)s") % {"n": counts["returned"]})
        )
        for v in mine.filter(status=VoucherStatus.RETURNED).order_by("returned_at", "id")[:LISTED]:
            items.append(_item(reverse("voucher-detail", args=[v.pk]), v.number, v.description[:60]))
    if counts["drafts"]:
        items.append(_item(f"{list_url}?status=draft", _("Chứng từ nháp: %(n)s") % {"n": counts["drafts"]}))
    total = counts["returned"]
    for role, label in (
        (Role.CHIEF_ACCOUNTANT, _("Chờ bạn ký (kế toán trưởng)")),
        (Role.ACCOUNT_HOLDER, _("Chờ bạn ký và gửi (chủ tài khoản)")),
    ):
        role_units = [m.organisation_id for m in account_selectors.memberships_of(user) if m.role == role]
        if not role_units:
            continue
        live = Signature.objects.filter(voucher=OuterRef("pk"), voided_at__isnull=True)
        waiting = mine.filter(unit_id__in=role_units, status__in=EDITABLE_STATUSES).exclude(
            Exists(live.filter(role=role))
        )
        if role == Role.ACCOUNT_HOLDER:  # the chief accountant signs first
            waiting = waiting.filter(Exists(live.filter(role=Role.CHIEF_ACCOUNTANT)))
        rows = list(waiting.order_by("created_at", "id")[: LISTED + 1])
        if rows:
            total += len(rows)
            shown = str(len(rows)) if len(rows) <= LISTED else f"{LISTED}+"
            items.append(_item(f"{list_url}?status=draft", f"{label}: {shown}"))
            items += [
                _item(reverse("voucher-detail", args=[v.pk]), v.number, v.description[:60]) for v in rows[:LISTED]
            ]
    return total, items


def _treasury_items(request: HttpRequest) -> tuple[int, list[dict]]:
    user = request.user
    if not account_selectors.has_role(user, Role.CONTROL_OFFICER, Role.APPROVER):
        return 0, []
    counts = selectors.queue_profile(user)
    queue = reverse("review-queue")
    items = []
    if account_selectors.has_role(user, Role.CONTROL_OFFICER):
        items.append(_item(f"{queue}?status=submitted", _("Chờ nhận kiểm soát: %(n)s") % {"n": counts["submitted"]}))
        items.append(_item(f"{queue}?status=in_control", _("Bạn đang kiểm soát: %(n)s") % {"n": counts["mine"]}))
    if account_selectors.has_role(user, Role.APPROVER):
        items.append(_item(f"{queue}?status=pending_approval", _("Chờ phê duyệt: %(n)s") % {"n": counts["pending"]}))
        escalated = list(selectors.escalated_vouchers(user)[: LISTED + 1])
        if escalated:
            shown = str(len(escalated)) if len(escalated) <= LISTED else f"{LISTED}+"
            items.append(_item(f"{queue}?escalated=1", _("Cần lãnh đạo đôn đốc: %(n)s") % {"n": shown}))
            items += [
                _item(reverse("voucher-detail", args=[v.pk]), v.receipt_number or v.number, v.description[:60])
                for v in escalated[:LISTED]
            ]
    today = timezone.localdate().isoformat()
    items.append(
        _item(
            f"{queue}?due_before={today}",
            _("Quá hạn: %(n)s") % {"n": counts["overdue"]},
            _("cần giải trình khi xử lý") if counts["overdue"] else "",
        )
    )
    items.append(_item(queue, _("Sắp đến hạn (trong 8 giờ): %(n)s") % {"n": counts["soon"]}))
    return counts["submitted"] + counts["mine"] + counts["pending"], items


def home_section(request: HttpRequest) -> dict | None:
    user = request.user
    if not user.is_authenticated:
        return None
    unit_count, unit_items = _unit_items(request)
    treasury_count, treasury_items = _treasury_items(request)
    if not unit_items and not treasury_items:
        if not account_selectors.has_role(user, *UNIT_ROLES):
            return None
        return {
            "title": _("Chứng từ"),
            "count": 0,
            "text": _("chứng từ cần bạn xử lý"),
            "items": [],
            "url": reverse("voucher-create"),
        }
    return {
        "title": _("Chứng từ cần xử lý"),
        "count": unit_count + treasury_count,
        "text": _("chứng từ cần bạn xử lý"),
        "items": unit_items + treasury_items,
        "url": reverse("review-queue") if treasury_items else reverse("voucher-list"),
    }
