"""Writes of the integrations app: endpoints (register, enable/disable, rotate
the secret), turning the lower apps' event rows into webhook events and their
delivery rows (the outbox), delivering them (claim, send, record, retry with
back-off, disable a failing endpoint and tell its owners) and replays.

Delivery is at least once: a deliverer that dies after the receiver answered
but before the answer was recorded leaves the claim to run out, and the row is
sent again with the same `webhook-id` (receivers drop duplicates by it)."""

import json
import logging
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, Organisation, OrgKind, Role, User
from accounts.selectors import user_has_unit_role
from integrations import signing, transport
from integrations.models import (
    SUPPLIER_EVENTS,
    UNIT_EVENTS,
    DeliveryState,
    EndpointStatus,
    WebhookAttempt,
    WebhookCursor,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from integrations.sources import SOURCES, Candidate, Source
from treasury_portal.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed

logger = logging.getLogger(__name__)

# Who manages a unit's endpoints (docs/webhooks.md): its account holders and
# chief accountants, the people who answer for its accounts. Preparers see them.
UNIT_MANAGERS = (Role.ACCOUNT_HOLDER, Role.CHIEF_ACCOUNTANT)
MAX_ENDPOINTS = 10
# The delay before each retry (Standard Webhooks' / Svix's schedule): the first
# attempt at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 8 attempts over ~27.6 h.
RETRY_DELAYS = (
    timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
    timedelta(hours=5), timedelta(hours=10), timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
CLAIM_LEASE = timedelta(seconds=60)


def disable_after_deliveries() -> int:
    return int(getattr(settings, "WEBHOOKS_DISABLE_AFTER_DELIVERIES", 10))


def disable_after() -> timedelta:
    return getattr(settings, "WEBHOOKS_DISABLE_AFTER", timedelta(hours=24))


def rescan_window() -> timedelta:
    return getattr(settings, "WEBHOOKS_RESCAN", timedelta(minutes=5))


def rescan_rows() -> int:
    """At most this many rows below the cursor are read again (a primary-key
    range, so the rescan never scans a whole event table)."""
    return int(getattr(settings, "WEBHOOKS_RESCAN_ROWS", 20_000))


# --- who may do what ---------------------------------------------------------------


def can_view(user: User, organisation: Organisation) -> bool:
    if organisation.kind == OrgKind.UNIT:
        return user_has_unit_role(user, organisation, Role.PREPARER, *UNIT_MANAGERS)
    if organisation.kind == OrgKind.SUPPLIER:
        return user_has_unit_role(user, organisation, Role.SUPPLIER_CLERK)
    return False


def can_manage(user: User, organisation: Organisation) -> bool:
    """Register, switch on and off, rotate, replay: a unit's signers, a supplier's clerks."""
    if organisation.kind == OrgKind.UNIT:
        return user_has_unit_role(user, organisation, *UNIT_MANAGERS)
    if organisation.kind == OrgKind.SUPPLIER:
        return user_has_unit_role(user, organisation, Role.SUPPLIER_CLERK)
    return False


def can_enable(user: User, endpoint: WebhookEndpoint) -> bool:
    return endpoint.status == EndpointStatus.DISABLED and can_manage(user, endpoint.organisation)


def can_disable(user: User, endpoint: WebhookEndpoint) -> bool:
    return endpoint.status == EndpointStatus.ENABLED and can_manage(user, endpoint.organisation)


def can_replay(user: User, delivery: WebhookDelivery) -> bool:
    return (
        delivery.endpoint.status == EndpointStatus.ENABLED
        and delivery.status != DeliveryState.PENDING
        and can_manage(user, delivery.endpoint.organisation)
    )


def event_types_for(organisation: Organisation) -> tuple[str, ...]:
    """What an organisation can be told of: a supplier only of its invoices."""
    return SUPPLIER_EVENTS if organisation.kind == OrgKind.SUPPLIER else UNIT_EVENTS


# --- endpoints ---------------------------------------------------------------------


URL_PROBLEMS = {
    "https_required": lambda: _("Địa chỉ phải bắt đầu bằng https://."),
    "invalid_url": lambda: _("Địa chỉ không hợp lệ."),
    "private_address": lambda: _("Không được dùng địa chỉ trong mạng nội bộ."),
}


def _check_url(url: str) -> str:
    url = (url or "").strip()
    problem = transport.url_problem(url) if url else "invalid_url"
    if problem:
        message = URL_PROBLEMS.get(problem, URL_PROBLEMS["invalid_url"])()
        raise ValidationFailed(message, fields={"url": [message]})
    return url


def _lock(endpoint: WebhookEndpoint | int) -> WebhookEndpoint:
    pk = endpoint.pk if isinstance(endpoint, WebhookEndpoint) else endpoint
    return WebhookEndpoint.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=pk)


def _require_manager(actor: User, organisation: Organisation) -> None:
    if not can_view(actor, organisation):
        raise NotFound()
    if not can_manage(actor, organisation):
        raise PermissionDenied(_("Chỉ chủ tài khoản, kế toán trưởng hoặc nhân viên nhà cung cấp được thay đổi "
                                 "kết nối webhook."))


def endpoint_create(
    *, actor: User, organisation: Organisation, url: str, event_types: list[str], description: str = "",
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (returned here only: shown once)."""
    _require_manager(actor, organisation)
    url = _check_url(url)
    allowed = event_types_for(organisation)
    chosen = [t for t in dict.fromkeys(event_types or []) if t in allowed]
    if not chosen and event_types:
        raise ApplicationError(
            "event_type_not_available", _("Nhà cung cấp chỉ nhận được sự kiện về hóa đơn thanh toán tự động.")
        )
    if not chosen:
        message = _("Hãy chọn ít nhất một loại sự kiện.")
        raise ValidationFailed(message, fields={"event_types": [message]})
    secret = signing.secret_new()
    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
        if WebhookEndpoint.objects.filter(organisation=organisation).count() >= MAX_ENDPOINTS:
            raise ApplicationError(
                "too_many_endpoints",
                _("Mỗi tổ chức đăng ký tối đa %(n)s điểm nhận webhook.") % {"n": MAX_ENDPOINTS},
            )
        endpoint = WebhookEndpoint.objects.create(
            organisation=organisation, url=url, description=(description or "").strip()[:200],
            event_types=chosen, secret=secret, created_by=actor,
        )
    return endpoint, secret


def endpoint_rotate_secret(*, actor: User, endpoint: WebhookEndpoint | int) -> tuple[WebhookEndpoint, str]:
    """A new secret, shown once; the next attempt is signed with it."""
    secret = signing.secret_new()
    with transaction.atomic():
        endpoint = _lock(endpoint)
        _require_manager(actor, endpoint.organisation)
        endpoint.secret = secret
        endpoint.secret_rotated_at = timezone.now()
        endpoint.save(update_fields=["secret", "secret_rotated_at"])
    return endpoint, secret


def endpoint_disable(*, actor: User, endpoint: WebhookEndpoint | int) -> WebhookEndpoint:
    """Off by its owner: nothing is sent or queued for it until it is on again (a repeat changes nothing)."""
    with transaction.atomic():
        endpoint = _lock(endpoint)
        _require_manager(actor, endpoint.organisation)
        if endpoint.status != EndpointStatus.DISABLED:
            endpoint.status = EndpointStatus.DISABLED
            endpoint.disabled_reason = "manual"
            endpoint.disabled_at = timezone.now()
            endpoint.save(update_fields=["status", "disabled_reason", "disabled_at"])
    return endpoint


def endpoint_enable(*, actor: User, endpoint: WebhookEndpoint | int) -> WebhookEndpoint:
    """On again: the failure counters start over and its waiting deliveries are due now."""
    with transaction.atomic():
        endpoint = _lock(endpoint)
        _require_manager(actor, endpoint.organisation)
        if endpoint.status != EndpointStatus.ENABLED:
            endpoint.status = EndpointStatus.ENABLED
            endpoint.disabled_reason = ""
            endpoint.disabled_at = None
            endpoint.failed_deliveries = 0
            endpoint.failing_since = None
            endpoint.save(update_fields=["status", "disabled_reason", "disabled_at", "failed_deliveries",
                                         "failing_since"])
            WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryState.PENDING).update(
                next_attempt_at=timezone.now()
            )
    return endpoint


def delivery_replay(*, actor: User, delivery: WebhookDelivery | int) -> WebhookDelivery:
    """Send a delivered or failed event again, with the same webhook-id, on a
    fresh retry schedule. A pending one is already on its way: unchanged."""
    pk = delivery.pk if isinstance(delivery, WebhookDelivery) else delivery
    with transaction.atomic():
        row = WebhookDelivery.objects.select_related("endpoint").get(pk=pk)
        endpoint = _lock(row.endpoint_id)
        _require_manager(actor, endpoint.organisation)
        row = WebhookDelivery.objects.select_for_update().get(pk=pk)
        if endpoint.status != EndpointStatus.ENABLED:
            raise ApplicationError("endpoint_disabled", _("Điểm nhận đang tắt: hãy bật lại trước khi gửi lại."))
        if row.status != DeliveryState.PENDING:
            row.status = DeliveryState.PENDING
            row.attempts = 0
            row.next_attempt_at = timezone.now()
            row.claim = None
            row.claimed_until = None
            row.replays = F("replays") + 1
            row.save(update_fields=["status", "attempts", "next_attempt_at", "claim", "claimed_until", "replays"])
            row.refresh_from_db()
    row.endpoint = endpoint
    return row


# --- events: the cursor over the lower apps' rows ---------------------------------------


def _subscribed_orgs() -> set[int]:
    return set(
        WebhookEndpoint.objects.filter(status=EndpointStatus.ENABLED).values_list("organisation_id", flat=True)
    )


def events_write(candidates: list[Candidate], *, now: datetime | None = None) -> int:
    """The events (once per organisation, source and type) and one delivery per
    enabled endpoint that subscribed to the type and existed when it happened.
    Returns how many deliveries it wrote (a repeat writes nothing new)."""
    if not candidates:
        return 0
    now = now or timezone.now()
    WebhookEvent.objects.bulk_create(
        [WebhookEvent(organisation_id=c.organisation_id, type=c.type, source=c.source, payload=c.payload,
                      occurred_at=c.occurred_at) for c in candidates],
        ignore_conflicts=True,
    )
    orgs = {c.organisation_id for c in candidates}
    events = WebhookEvent.objects.filter(organisation_id__in=orgs, source__in={c.source for c in candidates})
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for e in WebhookEndpoint.objects.filter(organisation_id__in=orgs, status=EndpointStatus.ENABLED):
        endpoints.setdefault(e.organisation_id, []).append(e)
    wanted = {(c.organisation_id, c.source, c.type) for c in candidates}
    rows = []
    for event in events:
        if (event.organisation_id, event.source, event.type) not in wanted:
            continue
        for endpoint in endpoints.get(event.organisation_id, []):
            if event.type in endpoint.event_types and endpoint.created_at <= event.occurred_at:
                rows.append(WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=now))
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _collect_source(source: Source, *, batch: int, batches: int, now: datetime) -> int:
    written = 0
    for _n in range(batches):
        with transaction.atomic():
            WebhookCursor.objects.get_or_create(name=source.name)
            cursor = WebhookCursor.objects.select_for_update().get(name=source.name)
            ids = list(
                source.model.objects.filter(pk__gt=cursor.last_id).order_by("pk").values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return written
            orgs = _subscribed_orgs()
            if orgs:
                rows = source.rows(orgs).filter(pk__gt=cursor.last_id, pk__lte=ids[-1]).order_by("pk")
                written += events_write(source.candidates(rows, orgs), now=now)
            cursor.last_id = ids[-1]
            cursor.save(update_fields=["last_id", "updated_at"])
        if len(ids) < batch:
            break
    return written


def _rescan_source(source: Source, *, now: datetime) -> int:
    """Rows at or below the cursor from the last few minutes again: a row whose
    transaction committed after a later row had moved the cursor is caught here
    (the unique event and delivery rows make the rest a no-op)."""
    orgs = _subscribed_orgs()
    cursor = WebhookCursor.objects.filter(name=source.name).first()
    if not orgs or cursor is None:
        return 0
    rows = source.rows(orgs).filter(
        pk__gt=max(0, cursor.last_id - rescan_rows()), pk__lte=cursor.last_id, created_at__gte=now - rescan_window()
    ).order_by("pk")
    with transaction.atomic():
        return events_write(source.candidates(rows, orgs), now=now)


def events_collect(*, batch: int = 500, batches: int = 20, now: datetime | None = None) -> int:
    """The beat's collector: every source's new rows → events and deliveries. Returns the new deliveries."""
    now = now or timezone.now()
    written = 0
    for source in SOURCES:
        written += _collect_source(source, batch=batch, batches=batches, now=now)
        written += _rescan_source(source, now=now)
    return written


def cursors_start_now() -> None:
    """Watch from the newest rows on (an installation over old data)."""
    from django.db.models import Max

    for source in SOURCES:
        last = source.model.objects.aggregate(m=Max("pk"))["m"] or 0
        WebhookCursor.objects.update_or_create(name=source.name, defaults={"last_id": last})


# --- delivery ----------------------------------------------------------------------


def body_of(event: WebhookEvent) -> bytes:
    """The JSON body: the same bytes on every attempt."""
    return json.dumps(
        {"id": event.message_id, "type": event.type, "timestamp": event.occurred_at.isoformat(),
         "data": event.payload},
        ensure_ascii=False, separators=(",", ":"), sort_keys=True,
    ).encode()


def _due() -> Q:
    now = timezone.now()
    return (
        Q(status=DeliveryState.PENDING, endpoint__status=EndpointStatus.ENABLED)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    )


def deliveries_claim(*, batch: int = 50) -> tuple[uuid.UUID, list[int]]:
    """Take due deliveries for this deliverer (SKIP LOCKED: two never take one row)."""
    claim = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",)).filter(_due())
            .order_by("next_attempt_at", "id").values_list("pk", flat=True)[:batch]
        )
        if ids:
            WebhookDelivery.objects.filter(pk__in=ids).update(claim=claim, claimed_until=timezone.now() + CLAIM_LEASE)
    return claim, ids


def delivery_claim_one(delivery_id: int) -> uuid.UUID | None:
    """Claim one delivery if it is due (a conditional update: a second task gets nothing)."""
    claim = uuid.uuid4()
    taken = WebhookDelivery.objects.filter(_due(), pk=delivery_id).update(
        claim=claim, claimed_until=timezone.now() + CLAIM_LEASE
    )
    return claim if taken else None


def delivery_send(*, delivery_id: int, claim: uuid.UUID) -> WebhookDelivery | None:
    """One attempt of a claimed delivery: POST outside any transaction, then record it."""
    delivery = (
        WebhookDelivery.objects.select_related("endpoint", "event").filter(pk=delivery_id, claim=claim).first()
    )
    if delivery is None or delivery.status != DeliveryState.PENDING:
        return None
    body = body_of(delivery.event)
    started = timezone.now()
    answer = transport.post(
        delivery.endpoint.url, body, signing.headers(delivery.endpoint.secret, delivery.event.message_id, body)
    )
    return attempt_record(delivery_id=delivery_id, claim=claim, answer=answer, started_at=started)


def next_delay(attempts: int) -> timedelta | None:
    """The wait after the `attempts`-th failed attempt; None: give up."""
    return RETRY_DELAYS[attempts - 1] if 1 <= attempts <= len(RETRY_DELAYS) else None


def attempt_record(
    *, delivery_id: int, claim: uuid.UUID, answer: transport.Answer, started_at: datetime,
) -> WebhookDelivery | None:
    """Record an attempt under the endpoint's and the delivery's row locks:
    success, a retry at the next step of the schedule, or failure for good;
    the endpoint is switched off after repeated failure."""
    now = timezone.now()
    with transaction.atomic():
        endpoint_id = WebhookDelivery.objects.filter(pk=delivery_id).values_list("endpoint_id", flat=True).first()
        if endpoint_id is None:
            return None
        endpoint = _lock(endpoint_id)
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id, claim=claim).first()
        if delivery is None or delivery.status != DeliveryState.PENDING:
            return None  # another deliverer took it over after our claim ran out
        number = WebhookAttempt.objects.filter(delivery=delivery).count() + 1
        WebhookAttempt.objects.create(
            delivery=delivery, number=number, started_at=started_at, duration_ms=answer.duration_ms,
            status_code=answer.status_code, error=answer.error, detail=answer.detail, succeeded=answer.ok,
        )
        delivery.attempts += 1
        delivery.last_status_code = answer.status_code
        delivery.last_error = answer.error
        delivery.claim = None
        delivery.claimed_until = None
        endpoint_fields: list[str] = []
        if answer.ok:
            delivery.status = DeliveryState.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            if endpoint.failed_deliveries or endpoint.failing_since:
                endpoint.failed_deliveries = 0
                endpoint.failing_since = None
                endpoint_fields = ["failed_deliveries", "failing_since"]
        else:
            delay = next_delay(delivery.attempts)
            if delay is None:
                delivery.status = DeliveryState.FAILED
                delivery.next_attempt_at = None
                endpoint.failed_deliveries += 1
                endpoint_fields.append("failed_deliveries")
            else:
                delivery.next_attempt_at = now + delay
            if endpoint.failing_since is None:
                endpoint.failing_since = started_at
                endpoint_fields.append("failing_since")
            if endpoint.status == EndpointStatus.ENABLED and (
                endpoint.failed_deliveries >= disable_after_deliveries()
                or endpoint.failing_since <= now - disable_after()
            ):
                endpoint.status = EndpointStatus.DISABLED
                endpoint.disabled_reason = "failing"
                endpoint.disabled_at = now
                endpoint_fields += ["status", "disabled_reason", "disabled_at"]
                _notify_disabled(endpoint)
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "claim", "claimed_until",
                                     "last_status_code", "last_error", "delivered_at"])
        if endpoint_fields:
            endpoint.save(update_fields=endpoint_fields)
    delivery.endpoint = endpoint
    return delivery


def endpoint_owners(organisation: Organisation) -> list[int]:
    """Who is told when the portal switches an endpoint off: a unit's account
    holders and chief accountants, a supplier's clerks."""
    roles = UNIT_MANAGERS if organisation.kind == OrgKind.UNIT else (Role.SUPPLIER_CLERK,)
    return sorted(set(Membership.objects.filter(organisation=organisation, role__in=roles, is_active=True)
                      .values_list("user_id", flat=True)))


def _notify_disabled(endpoint: WebhookEndpoint) -> None:
    """A portal notification (and e-mail/SMS per preferences) in the same transaction."""
    from django.urls import reverse

    from payments.models import Notification, NotificationKind
    from payments.services.notifications import notifications_write

    with translation.override(settings.LANGUAGE_CODE):
        title = _("Điểm nhận webhook %(url)s đã bị tắt do gửi lỗi nhiều lần") % {"url": endpoint.url[:120]}
        body = _("Cổng đã tắt điểm nhận webhook %(url)s vì các lần gửi liên tục không thành công. Hãy kiểm tra "
                 "hệ thống nhận rồi bật lại; các sự kiện chờ gửi sẽ được gửi tiếp.") % {"url": endpoint.url}
    data = {"webhook_endpoint_id": endpoint.pk, "url": reverse("webhook-endpoint", args=[endpoint.pk]),
            "endpoint_url": endpoint.url, "reason": "failing"}
    unit_id = endpoint.organisation_id if endpoint.organisation.kind == OrgKind.UNIT else None
    notifications_write([
        Notification(user_id=user_id, kind=NotificationKind.INTEGRATION, title=title[:255], body=body, data=data,
                     unit_id=unit_id)
        for user_id in endpoint_owners(endpoint.organisation)
    ])


def deliveries_deliver(*, batch: int = 50, max_seconds: float = 50) -> int:
    """The beat's deliverer: claim due rows, send each, record. Returns attempts made."""
    started = time.monotonic()
    made = 0
    while time.monotonic() - started < max_seconds:
        claim, ids = deliveries_claim(batch=batch)
        if not ids:
            break
        for delivery_id in ids:
            try:
                if delivery_send(delivery_id=delivery_id, claim=claim) is not None:
                    made += 1
            except Exception:  # one row's bug must not stop the others; its claim runs out
                logger.exception("webhook delivery %s failed to run", delivery_id)
        if len(ids) < batch:
            break
    return made


def delivery_deliver_one(*, delivery_id: int) -> WebhookDelivery | None:
    """One delivery now if it is due (the task `deliver_webhook`): twice → sent once."""
    claim = delivery_claim_one(delivery_id)
    if claim is None:
        return None
    return delivery_send(delivery_id=delivery_id, claim=claim)
