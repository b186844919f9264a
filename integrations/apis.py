"""API v1 of integrator webhooks: endpoints (register → the secret once, list,
detail, disable, enable, rotate the secret) and their deliveries with every
attempt (replay). Thin: validate → one selector or service → serialize."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import role_permissions
from integrations import selectors, services
from integrations.models import DeliveryState, EndpointStatus, EventType, WebhookDelivery, WebhookEndpoint
from payments.apis import _paginate
from treasury_portal import query as q
from treasury_portal.access_policy import SUPPLIER, UNIT, WEBHOOK_MANAGERS
from treasury_portal.api import NUMBERED_PAGE_PARAMETERS, PortalAPIView, PortalPagination, paginated

ROLES = UNIT | SUPPLIER
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?::(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
URL_PATTERN = (
    rf"^https?://{_LABEL}(?:\.{_LABEL})*{_PORT}(?:/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?"
    r"(?:\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?\Z"
)
URL_HELP = ("The receiver's address. https:// only in production (http:// only where the portal allows it for "
            "development); an address in a private network (loopback, RFC 1918, link-local…) is refused: 400 "
            "validation_error.")


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organisation = serializers.CharField(source="organisation.code")
    url = serializers.CharField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))
    status = serializers.ChoiceField(choices=EndpointStatus.choices)
    disabled_reason = serializers.CharField(help_text="`manual` (its owner) or `failing` (the portal); \"\" when on.")
    disabled_at = serializers.DateTimeField(allow_null=True)
    failed_deliveries = serializers.IntegerField(help_text="Deliveries failed for good since the last success.")
    failing_since = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    secret_rotated_at = serializers.DateTimeField(allow_null=True)


class WebhookEndpointDetailSerializer(WebhookEndpointSerializer):
    allowed_actions = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, endpoint: WebhookEndpoint) -> list[str]:
        user = self.context["request"].user
        actions = {"enable": services.can_enable(user, endpoint), "disable": services.can_disable(user, endpoint),
                   "rotate_secret": services.can_manage(user, endpoint.organisation)}
        return sorted(a for a, ok in actions.items() if ok)


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(help_text="The signing secret (whsec_…): shown in this answer only.")


class WebhookEndpointCreateSerializer(serializers.Serializer):
    organisation = serializers.RegexField(
        r"^[0-9A-Za-z-]{1,20}\Z", trim_whitespace=False, help_text="The unit's or supplier's code."
    )
    url = serializers.RegexField(URL_PATTERN, max_length=500, trim_whitespace=False, help_text=URL_HELP)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), min_length=1, max_length=len(EventType.values),
        help_text="A supplier is told only of its invoices (autopay.*).",
    )


class WebhookAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(help_text="\"\", or: " + ", ".join(
        ("https_required", "invalid_url", "private_address", "timeout", "tls_failed", "connection_failed",
         "http_status")))
    detail = serializers.CharField()
    succeeded = serializers.BooleanField()


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    webhook_id = serializers.CharField(source="event.message_id", help_text="The `webhook-id` header.")
    event_type = serializers.ChoiceField(source="event.type", choices=EventType.choices)
    status = serializers.ChoiceField(choices=DeliveryState.choices)
    attempts = serializers.IntegerField(help_text="Attempts since it was written or last replayed.")
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    replays = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    payload = serializers.JSONField(source="event.payload", help_text="The event's `data`.")
    attempt_list = serializers.SerializerMethodField()
    can_replay = serializers.SerializerMethodField()

    @extend_schema_field(WebhookAttemptSerializer(many=True))
    def get_attempt_list(self, delivery: WebhookDelivery) -> list:
        return WebhookAttemptSerializer(delivery.attempt_rows.all(), many=True).data

    def get_can_replay(self, delivery: WebhookDelivery) -> bool:
        return services.can_replay(self.context["request"].user, delivery)


ENDPOINT_STATUS = q.choice("status", EndpointStatus.values)
DELIVERY_STATUS = q.choice("status", DeliveryState.values)


def _endpoint(request: Request, endpoint: WebhookEndpoint, status: int = 200) -> Response:
    fresh = selectors.access_endpoint(request.user, endpoint.pk)
    return Response(WebhookEndpointDetailSerializer(fresh, context={"request": request}).data, status=status)


def _with_secret(request: Request, endpoint: WebhookEndpoint, secret: str, status: int) -> Response:
    fresh = selectors.access_endpoint(request.user, endpoint.pk)
    data = dict(WebhookEndpointSerializer(fresh).data)
    data["secret"] = secret
    return Response(data, status=status)


class WebhookEndpointListApi(PortalAPIView):
    permission_classes = role_permissions(ROLES)

    @extend_schema(operation_id="webhook_endpoints_list", responses=paginated(WebhookEndpointSerializer),
                   parameters=[ENDPOINT_STATUS.schema(), *NUMBERED_PAGE_PARAMETERS])
    def get(self, request: Request) -> Response:
        qs = selectors.endpoint_list(request.user, status=ENDPOINT_STATUS.read(request))
        return _paginate(self, request, qs, WebhookEndpointSerializer)

    @extend_schema(
        operation_id="webhook_endpoints_create", request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointWithSecretSerializer},
        description="Register an endpoint: the answer carries its signing secret, shown this once. A unit's account "
        "holder or chief accountant, or a supplier's clerk (403 `permission_denied` for a preparer; 404 for an "
        "organisation the caller is not in). 409 `too_many_endpoints` (10 per organisation), 409 "
        "`event_type_not_available` (a supplier subscribing to unit events only).",
    )
    def post(self, request: Request) -> Response:
        data = WebhookEndpointCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        organisation = selectors.access_organisation(request.user, v["organisation"])
        endpoint, secret = services.endpoint_create(
            actor=request.user, organisation=organisation, url=v["url"], event_types=v["event_types"],
            description=v.get("description", ""),
        )
        return _with_secret(request, endpoint, secret, 201)


class WebhookEndpointApi(PortalAPIView):
    permission_classes = role_permissions(ROLES)

    @extend_schema(operation_id="webhook_endpoints_retrieve", responses=WebhookEndpointDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _endpoint(request, selectors.access_endpoint(request.user, pk))


class _EndpointActionApi(PortalAPIView):
    permission_classes = role_permissions(WEBHOOK_MANAGERS)


class WebhookEndpointDisableApi(_EndpointActionApi):
    @extend_schema(operation_id="webhook_endpoints_disable", request=None, responses=WebhookEndpointDetailSerializer,
                   description="Switch the endpoint off: nothing is sent to it or queued for it. A repeat changes "
                   "nothing. 403 `permission_denied` for a preparer.")
    def post(self, request: Request, pk: int) -> Response:
        endpoint = services.endpoint_disable(actor=request.user, endpoint=selectors.access_endpoint(request.user, pk))
        return _endpoint(request, endpoint)


class WebhookEndpointEnableApi(_EndpointActionApi):
    @extend_schema(operation_id="webhook_endpoints_enable", request=None, responses=WebhookEndpointDetailSerializer,
                   description="Switch the endpoint on again: its failure counters start over and its waiting "
                   "deliveries are sent. A repeat changes nothing.")
    def post(self, request: Request, pk: int) -> Response:
        endpoint = services.endpoint_enable(actor=request.user, endpoint=selectors.access_endpoint(request.user, pk))
        return _endpoint(request, endpoint)


class WebhookEndpointRotateSecretApi(_EndpointActionApi):
    @extend_schema(operation_id="webhook_endpoints_rotate_secret", request=None,
                   responses=WebhookEndpointWithSecretSerializer,
                   description="A new signing secret, shown in this answer only; the next attempt is signed with it.")
    def post(self, request: Request, pk: int) -> Response:
        endpoint, secret = services.endpoint_rotate_secret(
            actor=request.user, endpoint=selectors.access_endpoint(request.user, pk)
        )
        return _with_secret(request, endpoint, secret, 200)


class WebhookDeliveryListApi(PortalAPIView):
    permission_classes = role_permissions(ROLES)

    @extend_schema(operation_id="webhook_deliveries_list", responses=paginated(WebhookDeliverySerializer),
                   parameters=[DELIVERY_STATUS.schema(), *NUMBERED_PAGE_PARAMETERS])
    def get(self, request: Request, pk: int) -> Response:
        endpoint = selectors.access_endpoint(request.user, pk)
        qs = selectors.delivery_list(endpoint, status=DELIVERY_STATUS.read(request))
        paginator = PortalPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        rows = WebhookDeliverySerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(rows)


class WebhookDeliveryReplayApi(PortalAPIView):
    permission_classes = role_permissions(WEBHOOK_MANAGERS)

    @extend_schema(operation_id="webhook_deliveries_replay", request=None, responses=WebhookDeliverySerializer,
                   description="Send the event again (same `webhook-id`, a fresh retry schedule). A delivery still "
                   "pending is unchanged. 409 `endpoint_disabled` while the endpoint is off; 403 "
                   "`permission_denied` for a preparer.")
    def post(self, request: Request, pk: int, delivery_id: int) -> Response:
        delivery = selectors.access_delivery(request.user, pk, delivery_id)
        services.delivery_replay(actor=request.user, delivery=delivery)
        fresh = selectors.access_delivery(request.user, pk, delivery_id)
        return Response(WebhookDeliverySerializer(fresh, context={"request": request}).data)
