"""API v1 of the leader dashboard (the page's figures), the public satisfaction
figures per office, and the satisfaction follow-ups. Thin: validate → one
selector or service → serialize."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.permissions import role_permissions
from monitoring import dashboard
from monitoring.apis import LifecycleEventSerializer
from monitoring.models import FollowUp, FollowUpStatus
from monitoring.satisfaction import selectors, services
from payments.apis import _paginate
from treasury_portal import query as q
from treasury_portal.access_policy import LEADERS, TREASURY
from treasury_portal.api import NUMBERED_PAGE_PARAMETERS, PortalAPIView, paginated

OFFICE = q.text("office", "Treasury office code (4 digits; default: the caller's highest office)",
                pattern=r"^[0-9]{4}$", max_length=4)
FROM = q.day("from", "First day of the period (default: the 1st of this month)")
TO = q.day("to", "Last day of the period (default: today). Dates in the wrong order are taken in order; a period "
           "longer than 366 days is cut to the 366 days ending on `to`.")


# --- the dashboard ---------------------------------------------------------------------


class DashboardOfficeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DashboardPeriodSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="first day")
    end = serializers.DateField(help_text="last day (inclusive)")


class DashboardStatusesSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="vouchers received in the period")
    by_status = serializers.DictField(
        child=serializers.IntegerField(), help_text="received in the period, by their status now"
    )
    returned = serializers.IntegerField(help_text="of those, returned for supplement at least once")
    second_returns = serializers.IntegerField(help_text="of those, returned more than once")
    refused = serializers.IntegerField()
    return_rate = serializers.FloatField(allow_null=True, help_text="percent")
    refusal_rate = serializers.FloatField(allow_null=True, help_text="percent")


class DashboardTimingSerializer(serializers.Serializer):
    closed = serializers.IntegerField(help_text="vouchers paid or refused in the period")
    on_time = serializers.IntegerField(help_text="of those, closed by their due time")
    on_time_rate = serializers.FloatField(allow_null=True, help_text="percent")
    median_hours = serializers.FloatField(allow_null=True, help_text="working hours from receipt to closing")
    p90_hours = serializers.FloatField(allow_null=True, help_text="working hours, 90th percentile")


class DashboardOverdueVoucherSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    unit = serializers.CharField(source="unit.code")
    status = serializers.CharField()
    due_at = serializers.DateTimeField()
    controller = serializers.SerializerMethodField()
    explanation = serializers.CharField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_controller(self, voucher: object) -> str | None:
        return voucher.controller.username if voucher.controller_id else None


class DashboardOverdueSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    vouchers = DashboardOverdueVoucherSerializer(source="rows", many=True)


class DashboardReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    count = serializers.IntegerField()


class DashboardReasonsSerializer(serializers.Serializer):
    returns = DashboardReasonSerializer(many=True)
    refusals = DashboardReasonSerializer(many=True)


class DashboardOfficerCountSerializer(serializers.Serializer):
    username = serializers.CharField(allow_blank=True)
    name = serializers.CharField()
    count = serializers.IntegerField()


class DashboardOfficeCountSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class DashboardSecondReturnsSerializer(serializers.Serializer):
    officers = DashboardOfficerCountSerializer(many=True)
    offices = DashboardOfficeCountSerializer(many=True)


class DashboardOfficerSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    in_control = serializers.IntegerField(help_text="in control now (workload)")
    closed = serializers.IntegerField(help_text="paid or refused in the period (throughput)")
    refused = serializers.IntegerField()


class DashboardAlertSerializer(serializers.Serializer):
    rule = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class DashboardAutopaySerializer(serializers.Serializer):
    open_exceptions = serializers.IntegerField()


class DashboardSatisfactionSerializer(serializers.Serializer):
    ratings = serializers.IntegerField(help_text="ratings given in the period")
    satisfied = serializers.IntegerField(help_text="satisfied or very satisfied")
    dissatisfied = serializers.IntegerField()
    satisfied_share = serializers.FloatField(allow_null=True, help_text="percent")
    open_followups = serializers.IntegerField()


class OfficeRateSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    ratings = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    satisfied_share = serializers.FloatField(allow_null=True, help_text="percent")
    closed = serializers.IntegerField(help_text="vouchers paid or refused in the period")
    on_time = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True, help_text="percent")


class DashboardSerializer(serializers.Serializer):
    office = DashboardOfficeSerializer(source="scope.office")
    offices = serializers.SerializerMethodField(help_text="the office and the offices below it, counted together")
    period = serializers.SerializerMethodField()
    statuses = DashboardStatusesSerializer()
    timing = DashboardTimingSerializer()
    overdue = DashboardOverdueSerializer()
    reasons = DashboardReasonsSerializer()
    second_returns = DashboardSecondReturnsSerializer()
    officers = DashboardOfficerSerializer(many=True)
    alerts = DashboardAlertSerializer(many=True)
    autopay = DashboardAutopaySerializer()
    satisfaction = DashboardSatisfactionSerializer()
    office_rates = OfficeRateSerializer(source="offices", many=True,
                                        help_text="per office with ratings or closed vouchers in the period")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_offices(self, figs: dict) -> list[str]:
        ids = set(figs["scope"].office_ids)
        return [o.code for o in figs["scope"].offices if o.pk in ids]

    @extend_schema_field(DashboardPeriodSerializer)
    def get_period(self, figs: dict) -> dict:
        return {"start": figs["period"].start.isoformat(), "end": figs["period"].end.isoformat()}


class DashboardApi(PortalAPIView):
    permission_classes = role_permissions(LEADERS)

    @extend_schema(
        operation_id="dashboard_retrieve", responses=DashboardSerializer,
        parameters=[OFFICE.schema(), FROM.schema(), TO.schema()],
        description="The leader dashboard of a treasury office and the offices below it, for a period (the "
        "office's approvers and administrators). 404 `not_found` for an office the caller does not lead.",
    )
    def get(self, request: Request) -> Response:
        figs = dashboard.dashboard(request.user, office=OFFICE.read(request), start=FROM.read(request),
                                   end=TO.read(request))
        return Response(DashboardSerializer(figs).data)


# --- public satisfaction -----------------------------------------------------------------


class OfficeRatesSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    offices = OfficeRateSerializer(many=True)


class PublicSatisfactionApi(PortalAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="satisfaction_offices", responses=OfficeRatesSerializer, auth=[],
        parameters=[FROM.schema(), TO.schema()],
        description="Public: each treasury office's share of satisfied ratings and on-time rate for a period.",
    )
    def get(self, request: Request) -> Response:
        period = dashboard.period_of(FROM.read(request), TO.read(request))
        rows = dashboard.public_office_rates(period, summaries=dashboard.use_summaries())
        return Response(OfficeRatesSerializer({"start": period.start, "end": period.end, "offices": rows}).data)


# --- follow-ups ------------------------------------------------------------------------


class FollowUpEventSerializer(LifecycleEventSerializer):
    """A step of a follow-up's life (component FollowUpEvent)."""


class FollowUpSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=FollowUpStatus.choices)
    voucher = serializers.IntegerField(source="voucher_id")
    voucher_number = serializers.CharField(source="voucher.number")
    unit = serializers.CharField(source="unit.code")
    office = serializers.CharField(source="office.code")
    score = serializers.IntegerField(source="rating.score")
    comment = serializers.CharField(source="rating.comment")
    assignee = serializers.SerializerMethodField()
    outcome = serializers.CharField()
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_assignee(self, followup: FollowUp) -> str | None:
        return followup.assignee.username if followup.assignee_id else None


class FollowUpDetailSerializer(FollowUpSerializer):
    events = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    @extend_schema_field(FollowUpEventSerializer(many=True))
    def get_events(self, followup: FollowUp) -> list:
        return FollowUpEventSerializer(selectors.followup_events(followup), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, followup: FollowUp) -> list[str]:
        return sorted(services.allowed_actions(self.context["request"].user, followup))


class FollowUpAssignInSerializer(serializers.Serializer):
    assignee = serializers.CharField(max_length=150, help_text="username of treasury staff over the unit")
    note = serializers.CharField(max_length=services.NOTE_MAX, required=False, allow_blank=True, default="")


class FollowUpNoteInSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=services.NOTE_MAX)


FOLLOWUP_STATUS = q.choice("status", ["active", *FollowUpStatus.values], "`active`: open or in progress")


class FollowUpListApi(PortalAPIView):
    permission_classes = role_permissions(TREASURY)

    @extend_schema(operation_id="followups_list", responses=paginated(FollowUpSerializer),
                   parameters=[FOLLOWUP_STATUS.schema(), *NUMBERED_PAGE_PARAMETERS])
    def get(self, request: Request) -> Response:
        qs = selectors.followup_list(request.user, status=FOLLOWUP_STATUS.read(request))
        return _paginate(self, request, qs, FollowUpSerializer)


class FollowUpApi(PortalAPIView):
    permission_classes = role_permissions(TREASURY)

    @extend_schema(operation_id="followups_retrieve", responses=FollowUpDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        followup = selectors.access_followup(request.user, pk)
        return Response(FollowUpDetailSerializer(followup, context={"request": request}).data)


ERRORS = ("403 `permission_denied` (the caller may not), 409 `invalid_transition` (the follow-up is closed), "
          "400 `validation_error`.")


class _FollowUpActionApi(PortalAPIView):
    permission_classes = role_permissions(TREASURY)
    input_serializer: type = FollowUpNoteInSerializer

    def post(self, request: Request, pk: int) -> Response:
        followup = selectors.access_followup(request.user, pk)
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.perform(request.user, followup, dict(data.validated_data))
        fresh = selectors.access_followup(request.user, pk)
        return Response(FollowUpDetailSerializer(fresh, context={"request": request}).data)

    def perform(self, user: User, followup: FollowUp, data: dict) -> None:
        raise NotImplementedError


class FollowUpAssignApi(_FollowUpActionApi):
    input_serializer = FollowUpAssignInSerializer

    @extend_schema(operation_id="followups_assign", request=FollowUpAssignInSerializer,
                   responses=FollowUpDetailSerializer,
                   description="A leader (approver or administrator over the unit) gives the follow-up to treasury "
                   "staff over the unit. " + ERRORS)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, user: User, followup: FollowUp, data: dict) -> None:
        assignee = next(
            (u for u in selectors.assignee_candidates(followup) if u.username == data["assignee"]), None
        )
        services.followup_assign(actor=user, followup=followup, assignee=assignee, note=data.get("note", ""))


class FollowUpNoteApi(_FollowUpActionApi):
    @extend_schema(operation_id="followups_note", request=FollowUpNoteInSerializer, responses=FollowUpDetailSerializer,
                   description="The assigned officer or a leader notes a contact with the unit. " + ERRORS)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, user: User, followup: FollowUp, data: dict) -> None:
        services.followup_note(actor=user, followup=followup, note=data["note"])


class FollowUpCloseApi(_FollowUpActionApi):
    @extend_schema(operation_id="followups_close", request=FollowUpNoteInSerializer, responses=FollowUpDetailSerializer,
                   description="The assigned officer or a leader closes it with the outcome. " + ERRORS)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, user: User, followup: FollowUp, data: dict) -> None:
        services.followup_close(actor=user, followup=followup, note=data["note"])
