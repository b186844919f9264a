"""API v1 of risk monitoring: the alerts the caller may see and their actions
(acknowledge, explain, resolve, dismiss). Thin: validate → one selector or
service → serialize; errors in the contract's JSON body."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import role_permissions
from monitoring import selectors, services
from monitoring.models import Alert, AlertStatus, RuleCode, Severity
from payments.apis import _paginate
from treasury_portal import query as q
from treasury_portal.access_policy import TREASURY, UNIT
from treasury_portal.api import NUMBERED_PAGE_PARAMETERS, PortalAPIView, paginated

UNIT_OR_TREASURY = UNIT | TREASURY


class LifecycleEventSerializer(serializers.Serializer):
    """One step of an alert's or a follow-up's life: action, statuses, who, note, when."""

    action = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    actor = serializers.SerializerMethodField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event: object) -> str | None:
        return event.actor.username if event.actor_id else None


class AlertEventSerializer(LifecycleEventSerializer):
    """A step of an alert's life (component AlertEvent)."""


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rule = serializers.ChoiceField(source="rule.code", choices=RuleCode.choices)
    rule_name = serializers.SerializerMethodField()
    severity = serializers.ChoiceField(choices=Severity.choices)
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    monitored = serializers.CharField()
    unit = serializers.CharField(source="unit.code")
    voucher = serializers.IntegerField(source="voucher_id", allow_null=True)
    voucher_number = serializers.SerializerMethodField()
    subject = serializers.CharField()
    evidence = serializers.JSONField(help_text="The rule's facts (machine-readable).")
    description = serializers.SerializerMethodField(help_text="The evidence as a sentence in the reader's language.")
    explanation = serializers.CharField()
    resolution_note = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_rule_name(self, alert: Alert) -> str:
        return selectors.rule_name(alert.rule)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_voucher_number(self, alert: Alert) -> str | None:
        return alert.voucher.number if alert.voucher_id else None

    def get_description(self, alert: Alert) -> str:
        return selectors.evidence_sentence(alert)


class AlertDetailSerializer(AlertSerializer):
    events = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    @extend_schema_field(AlertEventSerializer(many=True))
    def get_events(self, alert: Alert) -> list:
        return AlertEventSerializer(selectors.alert_events(alert), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, alert: Alert) -> list[str]:
        return sorted(services.allowed_actions(self.context["request"].user, alert))


class AlertNoteInSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=services.NOTE_MAX, required=False, allow_blank=True, default="")


class AlertClosingNoteInSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=services.NOTE_MAX)


class ExplainInSerializer(serializers.Serializer):
    explanation = serializers.CharField(max_length=services.NOTE_MAX)


ALERT_STATUS = q.choice("status", ["active", *AlertStatus.values], "`active`: open, acknowledged or explained")
ALERT_RULE = q.choice("rule", RuleCode.values)
ALERT_SEVERITY = q.choice("severity", Severity.values)


class AlertListApi(PortalAPIView):
    permission_classes = role_permissions(UNIT_OR_TREASURY)

    @extend_schema(
        operation_id="alerts_list", responses=paginated(AlertSerializer),
        parameters=[ALERT_STATUS.schema(), ALERT_RULE.schema(), ALERT_SEVERITY.schema(), *NUMBERED_PAGE_PARAMETERS],
    )
    def get(self, request: Request) -> Response:
        qs = selectors.alert_list(
            request.user, status=ALERT_STATUS.read(request), rule=ALERT_RULE.read(request),
            severity=ALERT_SEVERITY.read(request),
        )
        return _paginate(self, request, qs, AlertSerializer)


class AlertApi(PortalAPIView):
    permission_classes = role_permissions(UNIT_OR_TREASURY)

    @extend_schema(operation_id="alerts_retrieve", responses=AlertDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        alert = selectors.access_alert(request.user, pk)
        return Response(AlertDetailSerializer(alert, context={"request": request}).data)


class _AlertActionApi(PortalAPIView):
    """One POST on an alert the caller sees (another organisation's: 404)."""

    permission_classes = role_permissions(UNIT_OR_TREASURY)
    input_serializer: type = AlertNoteInSerializer

    def post(self, request: Request, pk: int) -> Response:
        alert = selectors.access_alert(request.user, pk)
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.perform(request, alert, dict(data.validated_data))
        fresh = selectors.access_alert(request.user, pk)
        return Response(AlertDetailSerializer(fresh, context={"request": request}).data)

    def perform(self, request: Request, alert: Alert, data: dict) -> None:
        raise NotImplementedError


ERRORS = ("403 `permission_denied` (the caller's role may not), 409 `invalid_transition` (the alert's status does "
          "not allow it), 400 `validation_error`.")


class AlertAcknowledgeApi(_AlertActionApi):
    @extend_schema(operation_id="alerts_acknowledge", request=AlertNoteInSerializer, responses=AlertDetailSerializer,
                   description="Treasury staff over the unit take the open alert in hand. " + ERRORS)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request: Request, alert: Alert, data: dict) -> None:
        services.alert_acknowledge(actor=request.user, alert=alert, note=data.get("note", ""))


class AlertExplainApi(_AlertActionApi):
    input_serializer = ExplainInSerializer

    @extend_schema(operation_id="alerts_explain", request=ExplainInSerializer, responses=AlertDetailSerializer,
                   description="The monitored side (the unit's people, or the control officers for a rule on the "
                   "treasury) explains. " + ERRORS)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request: Request, alert: Alert, data: dict) -> None:
        services.alert_explain(actor=request.user, alert=alert, explanation=data["explanation"])


class AlertResolveApi(_AlertActionApi):
    input_serializer = AlertClosingNoteInSerializer

    @extend_schema(operation_id="alerts_resolve", request=AlertClosingNoteInSerializer, responses=AlertDetailSerializer,
                   description="A leader (approver or administrator over the unit) closes an acknowledged or "
                   "explained alert with a note. " + ERRORS)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request: Request, alert: Alert, data: dict) -> None:
        services.alert_resolve(actor=request.user, alert=alert, note=data["note"])


class AlertDismissApi(_AlertActionApi):
    input_serializer = AlertClosingNoteInSerializer

    @extend_schema(operation_id="alerts_dismiss", request=AlertClosingNoteInSerializer, responses=AlertDetailSerializer,
                   description="A leader dismisses an alert (a false positive) with a note. " + ERRORS)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request: Request, alert: Alert, data: dict) -> None:
        services.alert_dismiss(actor=request.user, alert=alert, note=data["note"])
