"""Integrator webhooks: the endpoints units and suppliers register, the events
the portal tells them of, one delivery per (endpoint, event) and every attempt
of it, and the cursors over the lower apps' event rows.

The app reads vouchers/ and payments/ through their event tables (VoucherEvent,
Transfer, AutopayEvent) after a cursor, as monitoring/ does; nothing there
imports it (docs/architecture.md, docs/webhooks.md)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EventType(models.TextChoices):
    VOUCHER_STATUS_CHANGED = "voucher.status_changed", _("Chứng từ đổi trạng thái")
    PAYMENT_SUCCEEDED = "payment.succeeded", _("Chứng từ đã được thanh toán")
    PAYMENT_FAILED = "payment.failed", _("Thanh toán chứng từ không thành công")
    BALANCE_CHANGED = "balance.changed", _("Biến động số dư tài khoản")
    AUTOPAY_INVOICE_PAID = "autopay.invoice_paid", _("Hóa đơn được thanh toán tự động")
    AUTOPAY_INVOICE_EXCEPTION = "autopay.invoice_exception", _("Hóa đơn vào danh sách ngoại lệ")


# Which events an organisation of each kind may subscribe to.
UNIT_EVENTS = tuple(EventType.values)
SUPPLIER_EVENTS = (EventType.AUTOPAY_INVOICE_PAID.value, EventType.AUTOPAY_INVOICE_EXCEPTION.value)


class EndpointStatus(models.TextChoices):
    ENABLED = "enabled", _("Đang hoạt động")
    DISABLED = "disabled", _("Đã tắt")


class WebhookEndpoint(models.Model):
    """An HTTPS address of a unit's or a supplier's system. The secret signs
    every delivery (HMAC-SHA256); it is shown once, when created or rotated."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("tổ chức"),
    )
    url = models.CharField(_("địa chỉ nhận"), max_length=500)
    description = models.CharField(_("mô tả"), max_length=200, blank=True)
    event_types = models.JSONField(_("loại sự kiện"), default=list)
    secret = models.CharField(_("khóa ký"), max_length=100)
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=EndpointStatus.choices, default=EndpointStatus.ENABLED,
    )
    # Why it is off: "manual" (its owner) or "failing" (the portal, after repeated failures).
    disabled_reason = models.CharField(_("lý do tắt"), max_length=20, blank=True)
    disabled_at = models.DateTimeField(_("thời điểm tắt"), null=True, blank=True)
    # Since the last success: deliveries that failed for good, and when the first attempt failed.
    failed_deliveries = models.PositiveIntegerField(_("số lượt gửi lỗi liên tiếp"), default=0)
    failing_since = models.DateTimeField(_("lỗi liên tục từ"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("người tạo"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    secret_rotated_at = models.DateTimeField(_("thời điểm đổi khóa"), null=True, blank=True)

    class Meta:
        verbose_name = _("điểm nhận webhook")
        verbose_name_plural = pgettext_lazy("plural", "điểm nhận webhook")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "status"], name="webhook_endpoint_org")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["enabled", "disabled"]), name="webhook_endpoint_status_known"
            ),
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def event_type_labels(self) -> list[str]:
        """The subscribed event types in the reader's language."""
        return [str(EventType(t).label) for t in self.event_types if t in EventType.values]


class WebhookEvent(models.Model):
    """One thing an organisation is told of. `source` names the row it comes
    from ("voucher_event:12", "transfer:7:debit", "autopay_event:3"): with the
    organisation it is unique, so reading a row twice tells nobody twice."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("tổ chức"),
    )
    type = models.CharField(_("loại sự kiện"), max_length=40, choices=EventType.choices)
    source = models.CharField(_("nguồn"), max_length=80)
    payload = models.JSONField(_("dữ liệu"), default=dict)
    occurred_at = models.DateTimeField(_("thời điểm xảy ra"))
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)

    class Meta:
        verbose_name = _("sự kiện webhook")
        verbose_name_plural = pgettext_lazy("plural", "sự kiện webhook")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "source", "type"], name="webhook_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · {self.occurred_at:%d/%m/%Y %H:%M}"

    @property
    def message_id(self) -> str:
        """The `webhook-id` header: the same for every attempt and replay."""
        return f"msg_{self.public_id.hex}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Chờ gửi")
    SUCCEEDED = "succeeded", _("Đã gửi thành công")
    FAILED = "failed", _("Gửi không thành công")


class WebhookDelivery(models.Model):
    """The outbox row of one event for one endpoint: written with the event,
    claimed by the deliverer (conditional update, SKIP LOCKED), retried on the
    back-off schedule, replayable by the endpoint's owner."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("điểm nhận"),
    )
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries",
                              verbose_name=_("sự kiện"))
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("số lần thử"), default=0)
    next_attempt_at = models.DateTimeField(_("lần thử tiếp theo"), null=True, blank=True)
    # A deliverer holds the row until then (a crashed one's claim runs out).
    claimed_until = models.DateTimeField(_("đang gửi đến"), null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("mã trả lời gần nhất"), null=True, blank=True)
    last_error = models.CharField(_("lỗi gần nhất"), max_length=40, blank=True)
    replays = models.PositiveSmallIntegerField(_("số lần gửi lại"), default=0)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("thời điểm gửi thành công"), null=True, blank=True)

    class Meta:
        verbose_name = _("lượt gửi webhook")
        verbose_name_plural = pgettext_lazy("plural", "lượt gửi webhook")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "succeeded", "failed"]), name="webhook_delivery_status_known"
            ),
        ]
        indexes = [
            # The deliverer's claim: due pending rows only.
            models.Index(fields=["next_attempt_at", "id"], condition=Q(status="pending"), name="webhook_due"),
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: when, the answer's status code or the error."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_rows", verbose_name=_("lượt gửi"),
    )
    number = models.PositiveSmallIntegerField(_("lần thử"))
    started_at = models.DateTimeField(_("bắt đầu lúc"))
    duration_ms = models.PositiveIntegerField(_("thời gian (ms)"), default=0)
    status_code = models.PositiveSmallIntegerField(_("mã trả lời"), null=True, blank=True)
    # A code (transport.ERRORS, shown to people in their language) and the technical text.
    error = models.CharField(_("lỗi"), max_length=40, blank=True)
    detail = models.CharField(_("chi tiết lỗi"), max_length=500, blank=True)
    succeeded = models.BooleanField(_("thành công"), default=False)

    class Meta:
        verbose_name = _("lần thử gửi webhook")
        verbose_name_plural = pgettext_lazy("plural", "lần thử gửi webhook")
        ordering = ["delivery", "number", "id"]


class WebhookCursor(models.Model):
    """The last row of a source table already turned into events."""

    name = models.CharField(max_length=40, unique=True)
    last_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
