"""API v1 of the year end (docs/ledger.md "Year end"): an office's fiscal year
(cut-off date, adjustment period), its open vouchers, the close, the new
year's budget lines (a unit's roll-over of an autopay authorization is
autopay.apis.AuthorizationRollOverApi). Thin:
validate → one selector/service → serialize; errors in the contract's body
(`fiscal_year_closed`, 409, when a voucher of a closed year is created or
submitted)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Organisation, OrgKind
from accounts.permissions import role_permissions
from accounts.selectors import is_treasury_admin
from payments.apis import _paginate
from payments.models import FiscalYearClose, FiscalYearCloseState
from payments.selectors import yearend as selectors
from payments.selectors.notifications import voucher_status_choices
from payments.services import yearend as services
from treasury_portal import query as q
from treasury_portal.access_policy import ADMIN, TREASURY
from treasury_portal.api import NUMBERED_PAGE_PARAMETERS, PortalAPIView, created, paginated
from treasury_portal.errors import NotFound, PermissionDenied


class FiscalYearCloseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    office = serializers.CharField(source="office.code")
    year = serializers.IntegerField()
    cut_off = serializers.DateField()
    adjustment_until = serializers.DateField()
    phase = serializers.SerializerMethodField(help_text="`open`, `adjustment` (after the cut-off date) or `closed`")
    state = serializers.ChoiceField(choices=FiscalYearCloseState.choices, help_text="the close's progress")
    total = serializers.IntegerField(help_text="open vouchers the close decides")
    carried = serializers.IntegerField(help_text="carried to the new year")
    refused = serializers.IntegerField(help_text="refused with the close's reason")
    progress = serializers.SerializerMethodField(help_text="percent of the open vouchers decided")
    refuse_note = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    closed_by = serializers.CharField(source="closed_by.username", allow_null=True, default=None)

    def get_phase(self, close: FiscalYearClose) -> str:
        return selectors.fiscal_year_state(close.office_id, close.year).phase

    def get_progress(self, close: FiscalYearClose) -> int:
        return selectors.close_progress(close)


class FiscalYearCloseInSerializer(serializers.Serializer):
    office = serializers.RegexField(r"^[0-9]{4}\Z", trim_whitespace=False, help_text="treasury office code")
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    cut_off = serializers.DateField(required=False, help_text="default: 31 December of `year`")
    adjustment_until = serializers.DateField(required=False, help_text="default: 31 January of `year`+1")


class FiscalYearCloseStartInSerializer(serializers.Serializer):
    refuse = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), required=False, default=list, max_length=1000,
        help_text="ids of open vouchers (not yet approved) to refuse; every other open voucher is carried",
    )
    note = serializers.CharField(max_length=services.NOTE_MAX, required=False, allow_blank=True, default="",
                                 help_text="the reason the unit receives (required when `refuse` is not empty)")


class FiscalYearOpenVoucherSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    unit = serializers.CharField(source="unit.code")
    status = serializers.ChoiceField(choices=[])  # the voucher statuses: __init__
    total_amount = serializers.IntegerField()
    received_at = serializers.DateTimeField(allow_null=True)
    refusable = serializers.SerializerMethodField()

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        # Registered by the vouchers app (issue 15: payments never imports vouchers).
        self.fields["status"].choices = voucher_status_choices()

    def get_refusable(self, voucher: object) -> bool:
        return voucher.status in selectors.REFUSABLE_STATUSES


class BudgetLinesCopiedSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="budget lines of the next year created at zero")
    next_year_lines = serializers.IntegerField()


YEAR = q.integer("year", "fiscal year", minimum=2000, maximum=2100)


class FiscalYearCloseListApi(PortalAPIView):
    permission_classes = role_permissions(TREASURY)

    @extend_schema(operation_id="fiscal_year_closes_list", responses=paginated(FiscalYearCloseSerializer),
                   parameters=[YEAR.schema(), *NUMBERED_PAGE_PARAMETERS])
    def get(self, request: Request) -> Response:
        qs = selectors.closes_visible(request.user, year=YEAR.read(request))
        return _paginate(self, request, qs, FiscalYearCloseSerializer)

    @extend_schema(
        operation_id="fiscal_year_closes_create", request=FiscalYearCloseInSerializer,
        responses={201: FiscalYearCloseSerializer},
        description="A treasury administrator over the office sets up (or, while open, changes) the office's year "
        "end: 403 `permission_denied`, 404 `not_found` (an office the caller does not manage), 409 "
        "`invalid_transition` (already closing or closed), 400 `validation_error` (dates).",
    )
    def post(self, request: Request) -> Response:
        if not (request.user.is_superuser or is_treasury_admin(request.user)):
            raise PermissionDenied(_("Chỉ quản trị kho bạc mới đặt được các mốc khóa sổ năm."))
        data = FiscalYearCloseInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        office = _office(request.user, v.pop("office"))
        close = services.fiscal_year_close_set(actor=request.user, office=office, **v)
        return created(FiscalYearCloseSerializer(selectors.access_close(request.user, close.pk)).data)


def _office(user, code: str) -> Organisation:  # noqa: ANN001
    office = next((o for o in selectors.offices_to_close(user) if o.code == code), None)
    if office is None or office.kind != OrgKind.TREASURY_OFFICE:
        raise NotFound()
    return office


class FiscalYearCloseApi(PortalAPIView):
    permission_classes = role_permissions(TREASURY)

    @extend_schema(operation_id="fiscal_year_closes_retrieve", responses=FiscalYearCloseSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(FiscalYearCloseSerializer(selectors.access_close(request.user, pk)).data)


class FiscalYearOpenVouchersApi(PortalAPIView):
    permission_classes = role_permissions(TREASURY)

    @extend_schema(operation_id="fiscal_year_closes_open_vouchers",
                   responses=paginated(FiscalYearOpenVoucherSerializer), parameters=[*NUMBERED_PAGE_PARAMETERS])
    def get(self, request: Request, pk: int) -> Response:
        close = selectors.access_close(request.user, pk)
        return _paginate(self, request, selectors.open_vouchers(close), FiscalYearOpenVoucherSerializer)


class FiscalYearCloseStartApi(PortalAPIView):
    permission_classes = role_permissions(ADMIN)

    @extend_schema(
        operation_id="fiscal_year_closes_close", request=FiscalYearCloseStartInSerializer,
        responses={202: FiscalYearCloseSerializer},
        description="Close the fiscal year (once it has ended and its cut-off date passed): the vouchers in `refuse` "
        "are refused now with `note`, every other open voucher is carried to the new year by a background task; "
        "follow `state` and `progress` on the year end. A repeat returns the close under way. 409 "
        "`invalid_transition` (too early), 400 `validation_error` (a voucher that cannot be refused, a missing "
        "reason), 403 `permission_denied`.",
    )
    def post(self, request: Request, pk: int) -> Response:
        close = selectors.access_close(request.user, pk)
        data = FiscalYearCloseStartInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.fiscal_year_close_start(actor=request.user, close=close, **data.validated_data)
        fresh = selectors.access_close(request.user, pk)
        return Response(FiscalYearCloseSerializer(fresh).data, status=202)


class FiscalYearCopyBudgetLinesApi(PortalAPIView):
    permission_classes = role_permissions(ADMIN)

    @extend_schema(
        operation_id="fiscal_year_closes_copy_budget_lines", request=None, responses=BudgetLinesCopiedSerializer,
        description="Create the next year's budget lines of the office's units with this year's classification "
        "codes, at zero (the amounts are then allocated or imported as for any budget line). Lines already there "
        "are left alone.",
    )
    def post(self, request: Request, pk: int) -> Response:
        close = selectors.access_close(request.user, pk)
        n = services.budget_lines_copy_to_next_year(actor=request.user, close=close)
        return Response({"created": n, "next_year_lines": selectors.budget_line_counts(close)["next_year"]})
