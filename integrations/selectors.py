"""Reads of the integrations app, scoped to the reader's organisations: a
unit's people (preparers included) see their unit's endpoints, a supplier's
clerks their supplier's. Treasury staff see none (an integrator's set-up is
its own). Another organisation's endpoint or delivery is a 404."""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Organisation, OrgKind, Role, User
from accounts.selectors import memberships_of
from integrations.models import EndpointStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from integrations.services import UNIT_MANAGERS, can_manage
from treasury_portal.errors import NotFound

VIEW_ROLES = {OrgKind.UNIT: {Role.PREPARER, *UNIT_MANAGERS}, OrgKind.SUPPLIER: {Role.SUPPLIER_CLERK}}


def viewable_organisations(user: User) -> list[Organisation]:
    if not user.is_authenticated:
        return []
    seen: dict[int, Organisation] = {}
    for m in memberships_of(user):
        if m.role in VIEW_ROLES.get(m.organisation.kind, set()):
            seen.setdefault(m.organisation_id, m.organisation)
    return sorted(seen.values(), key=lambda o: o.code)


def manageable_organisations(user: User) -> list[Organisation]:
    """Where the user may register an endpoint (the create form's choices)."""
    return [o for o in viewable_organisations(user) if can_manage(user, o)]


def endpoints_visible(user: User) -> QuerySet[WebhookEndpoint]:
    orgs = [o.pk for o in viewable_organisations(user)]
    return WebhookEndpoint.objects.filter(organisation_id__in=orgs)


def endpoint_list(user: User, *, status: str | None = None) -> QuerySet[WebhookEndpoint]:
    qs = endpoints_visible(user).select_related("organisation")
    if status in EndpointStatus.values:
        qs = qs.filter(status=status)
    return qs.annotate(
        pending=Count("deliveries", filter=Q(deliveries__status="pending")),
        failed=Count("deliveries", filter=Q(deliveries__status="failed")),
    ).order_by("-created_at", "-id")


def _id(pk: object) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None


def access_endpoint(user: User, pk: object) -> WebhookEndpoint:
    endpoint = endpoints_visible(user).select_related("organisation", "created_by").filter(pk=_id(pk)).first()
    if endpoint is None:
        raise NotFound()
    return endpoint


def access_organisation(user: User, code: str) -> Organisation:
    """An organisation the user may see webhooks of, by code (404 otherwise)."""
    found = next((o for o in viewable_organisations(user) if o.code == code), None)
    if found is None:
        raise NotFound()
    return found


def delivery_list(endpoint: WebhookEndpoint, *, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first, each with its attempts."""
    qs = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event", "endpoint__organisation")
    if status:
        qs = qs.filter(status=status)
    return qs.prefetch_related(
        Prefetch("attempt_rows", queryset=WebhookAttempt.objects.order_by("number", "id"))
    ).order_by("-id")


def access_delivery(user: User, endpoint_pk: object, pk: object) -> WebhookDelivery:
    endpoint = access_endpoint(user, endpoint_pk)
    delivery = delivery_list(endpoint).filter(pk=_id(pk)).first()
    if delivery is None:
        raise NotFound()
    return delivery


def error_text(code: str) -> str:
    """An attempt's failure in the reader's language (never the code)."""
    return {
        "https_required": _("Địa chỉ không dùng https"),
        "invalid_url": _("Địa chỉ không hợp lệ"),
        "private_address": _("Địa chỉ thuộc mạng nội bộ, không được gửi"),
        "timeout": _("Hết thời gian chờ trả lời"),
        "tls_failed": _("Lỗi kết nối bảo mật (TLS)"),
        "connection_failed": _("Không kết nối được"),
        "http_status": _("Hệ thống nhận trả lời mã lỗi"),
    }.get(code, _("Lỗi khác") if code else "")
