"""API v1 of automatic utility payments (api-contract.md, "Automatic utility
payments"): authorizations (units sign and submit, the treasury confirms),
supplier invoices, the exception list and the runs. Thin: validate → one
selector/service → serialize."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import role_permissions
from accounts.selectors import access_unit
from autopay import selectors, services
from autopay.models import (
    AuthorizationStatus,
    AutopayAuthorization,
    ExceptionCode,
    InvoiceStatus,
    RunStatus,
    SupplierInvoice,
)
from payments.apis import _paginate
from treasury_portal import query as q
from treasury_portal.access_policy import ADMIN, EXCEPTION_HANDLERS, SIGNERS, SUPPLIER, TREASURY, UNIT
from treasury_portal.api import NUMBERED_PAGE_PARAMETERS, PortalAPIView, created, paginated
from treasury_portal.errors import ValidationFailed

MAX_AMOUNT = 10**15
HOLDER = frozenset({"account_holder"})


# --- serializers -----------------------------------------------------------------------


def customer_code_field() -> serializers.RegexField:
    """A supplier's customer code, as services.autopay.CUSTOMER_CODE reads it (no padding)."""
    return serializers.RegexField(
        r"^[0-9A-Za-z._\-]{1,40}\Z", trim_whitespace=False, help_text="letters, digits, . _ - (at most 40)"
    )


class AuthorizationInSerializer(serializers.Serializer):
    unit = serializers.CharField(max_length=20, help_text="unit code (ĐVQHNS), e.g. 1012345")
    supplier = serializers.CharField(max_length=20, help_text="supplier code (tax code)")
    customer_codes = serializers.ListField(child=customer_code_field(), min_length=1, max_length=100)
    budget_line = serializers.IntegerField(required=False, allow_null=True, help_text="budget line id to charge")
    deposit_account = serializers.IntegerField(
        required=False, allow_null=True, help_text="deposit account id to charge (instead of a budget line)"
    )
    cap_per_invoice = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT)
    cap_per_month = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField()


class AuthorizationPatchSerializer(serializers.Serializer):
    customer_codes = serializers.ListField(child=customer_code_field(), min_length=1, max_length=100, required=False)
    budget_line = serializers.IntegerField(required=False, allow_null=True)
    deposit_account = serializers.IntegerField(required=False, allow_null=True)
    cap_per_invoice = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT, required=False)
    cap_per_month = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT, required=False)
    valid_from = serializers.DateField(required=False)
    valid_to = serializers.DateField(required=False)


class AuthorizationSignInSerializer(serializers.Serializer):
    key_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    signature = serializers.CharField(max_length=200, help_text="base64 Ed25519 signature over the 32 raw bytes "
                                      "of content_hash")


class AuthorizationNoteInSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AuthorizationSignatureSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["chief_accountant", "account_holder"])
    signer = serializers.CharField(source="signer.username")
    key_id = serializers.IntegerField()
    key_fingerprint = serializers.CharField(source="key.fingerprint")
    content_hash = serializers.CharField()
    signed_at = serializers.DateTimeField()


class AuthorizationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = serializers.CharField(source="unit.code")
    unit_name = serializers.CharField(source="unit.name")
    supplier = serializers.CharField(source="supplier.code")
    supplier_name = serializers.CharField(source="supplier.name")
    customer_codes = serializers.SerializerMethodField()
    budget_line = serializers.IntegerField(source="budget_line_id", allow_null=True)
    budget_line_classification = serializers.SerializerMethodField()
    deposit_account = serializers.IntegerField(source="deposit_account_id", allow_null=True)
    deposit_account_number = serializers.SerializerMethodField()
    cap_per_invoice = serializers.IntegerField()
    cap_per_month = serializers.IntegerField()
    valid_from = serializers.DateField()
    valid_to = serializers.DateField()
    status = serializers.ChoiceField(choices=AuthorizationStatus.choices)
    content_hash = serializers.CharField(help_text="SHA-256 (hex) of the RFC 8785 canonical signable content")
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)

    def get_customer_codes(self, obj: AutopayAuthorization) -> list[str]:
        return sorted(c.customer_code for c in obj.customer_codes.all())

    def get_budget_line_classification(self, obj: AutopayAuthorization) -> str | None:
        return obj.budget_line.classification if obj.budget_line_id else None

    def get_deposit_account_number(self, obj: AutopayAuthorization) -> str | None:
        return obj.deposit_account.number if obj.deposit_account_id else None


class AuthorizationDetailSerializer(AuthorizationSerializer):
    signatures = serializers.SerializerMethodField()

    @extend_schema_field(AuthorizationSignatureSerializer(many=True))
    def get_signatures(self, obj: AutopayAuthorization) -> list[dict]:
        return AuthorizationSignatureSerializer(selectors.authorization_signatures(obj), many=True).data


class AutopayEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    action = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    note = serializers.CharField()


class InvoiceInSerializer(serializers.Serializer):
    invoice_number = serializers.RegexField(
        r"^[0-9A-Za-z._/\-]{1,60}\Z", trim_whitespace=False, help_text="letters, digits, . _ / - (at most 60)"
    )
    customer_code = customer_code_field()
    period = serializers.RegexField(r"^[0-9]{4}-(0[1-9]|1[0-2])\Z", trim_whitespace=False, help_text="YYYY-MM")
    amount = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT, help_text="đồng")
    issued_at = serializers.DateTimeField(help_text="ISO 8601 with offset")
    supplier = serializers.CharField(max_length=20, required=False,
                                     help_text="supplier code: only when the clerk works for several")


class SupplierInvoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    supplier = serializers.CharField(source="supplier.code")
    invoice_number = serializers.CharField()
    customer_code = serializers.CharField()
    period = serializers.CharField()
    amount = serializers.IntegerField()
    issued_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=InvoiceStatus.choices)
    exception_code = serializers.ChoiceField(choices=ExceptionCode.choices, allow_null=True)
    exception_reason = serializers.CharField(source="exception_reason_text", help_text="in the request's language")
    unit = serializers.CharField(source="unit.code", allow_null=True, default=None)
    authorization = serializers.IntegerField(source="authorization_id", allow_null=True)
    transfer = serializers.IntegerField(source="transfer_id", allow_null=True,
                                        help_text="the payment's transfer (its debit advice: "
                                        "/api/v1/transfers/{id}/debit-advice.pdf, for the unit)")
    created_at = serializers.DateTimeField()
    settled_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance: SupplierInvoice) -> dict:
        data = super().to_representation(instance)
        data["exception_code"] = data["exception_code"] or None
        return data


class AutopayInvoiceSerializer(SupplierInvoiceSerializer):
    """An invoice as its unit and the treasury see it: with how an exception was closed."""

    closed_at = serializers.DateTimeField(allow_null=True, help_text="when the exception was closed (handled "
                                          "another way); the status stays `exception`")
    closed_by = serializers.CharField(source="closed_by.username", allow_null=True, default=None)
    close_note = serializers.CharField()


class InvoiceRetryInSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class InvoiceCloseInSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="how the exception was handled (required)")


class AutopayRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    trigger = serializers.CharField()
    status = serializers.ChoiceField(
        choices=RunStatus.choices,
        help_text="running; finished; abandoned: its worker died (no heartbeat within the lease), a new run took over",
    )
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    total = serializers.IntegerField()
    processed = serializers.IntegerField()
    paid = serializers.IntegerField()
    excepted = serializers.IntegerField()
    paid_amount = serializers.IntegerField()
    percent = serializers.IntegerField()


def _valid(serializer_class: type, request: Request, **kw) -> dict:  # noqa: ANN003
    data = serializer_class(data=request.data, **kw)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def _detail(authorization: AutopayAuthorization, request: Request) -> dict:
    fresh = selectors.access_authorization(request.user, authorization.pk)
    return AuthorizationDetailSerializer(fresh).data


AUTHORIZATION_STATUS = q.choice("status", AuthorizationStatus.values)
INVOICE_STATUS = q.choice("status", InvoiceStatus.values)
EXCEPTION_CODE = q.choice("code", ExceptionCode.values)
CLOSED = q.boolean("closed", "true: the closed exceptions instead of the open ones")


# --- authorizations ------------------------------------------------------------------------


class AuthorizationListApi(PortalAPIView):
    permission_classes = role_permissions(UNIT | TREASURY)

    @extend_schema(
        operation_id="authorizations_list", responses=paginated(AuthorizationSerializer),
        parameters=[q.UNIT.schema(), q.SUPPLIER.schema(), AUTHORIZATION_STATUS.schema(), *NUMBERED_PAGE_PARAMETERS],
    )
    def get(self, request: Request) -> Response:
        qs = selectors.authorizations_visible(
            request.user, unit=q.UNIT.read(request), status=AUTHORIZATION_STATUS.read(request),
            supplier=q.SUPPLIER.read(request),
        )
        return _paginate(self, request, qs, AuthorizationSerializer)

    @extend_schema(operation_id="authorizations_create", request=AuthorizationInSerializer,
                   responses={201: AuthorizationDetailSerializer})
    def post(self, request: Request) -> Response:
        data = _valid(AuthorizationInSerializer, request)
        unit = access_unit(request.user, data.pop("unit"))
        authorization = services.authorization_create(actor=request.user, unit=unit, **data)
        return created(_detail(authorization, request))


class AuthorizationApi(PortalAPIView):
    permission_classes = role_permissions(UNIT | TREASURY)

    @extend_schema(operation_id="authorizations_retrieve", responses=AuthorizationDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(AuthorizationDetailSerializer(selectors.access_authorization(request.user, pk)).data)

    @extend_schema(operation_id="authorizations_update", request=AuthorizationPatchSerializer,
                   responses=AuthorizationDetailSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        authorization = selectors.access_authorization(request.user, pk)
        data = _valid(AuthorizationPatchSerializer, request)
        if not data:
            raise ValidationFailed(_("Không có trường nào để sửa."))
        authorization = services.authorization_update(actor=request.user, authorization=authorization, data=data)
        return Response(_detail(authorization, request))


class _AuthorizationActionApi(PortalAPIView):
    input_serializer: type | None = None

    def post(self, request: Request, pk: int) -> Response:
        authorization = selectors.access_authorization(request.user, pk)
        data = _valid(self.input_serializer, request) if self.input_serializer else {}
        self.perform(request, authorization, data)
        return Response(_detail(authorization, request))

    def perform(self, request: Request, authorization: AutopayAuthorization, data: dict) -> None:
        raise NotImplementedError


def _action_schema(operation_id: str, request_serializer: type | None):  # noqa: ANN202
    return extend_schema(operation_id=operation_id, request=request_serializer,
                         responses=AuthorizationDetailSerializer)


class AuthorizationSignApi(_AuthorizationActionApi):
    permission_classes = role_permissions(SIGNERS)
    input_serializer = AuthorizationSignInSerializer

    @_action_schema("authorizations_sign", AuthorizationSignInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request: Request, authorization: AutopayAuthorization, data: dict) -> None:
        services.authorization_sign(
            actor=request.user, authorization=authorization, key_id=data["key_id"], signature=data["signature"]
        )


class AuthorizationSubmitApi(_AuthorizationActionApi):
    permission_classes = role_permissions(HOLDER)

    @_action_schema("authorizations_submit", None)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request: Request, authorization: AutopayAuthorization, data: dict) -> None:
        services.authorization_submit(actor=request.user, authorization=authorization)


class AuthorizationConfirmApi(_AuthorizationActionApi):
    permission_classes = role_permissions(ADMIN)
    input_serializer = AuthorizationNoteInSerializer

    @_action_schema("authorizations_confirm", AuthorizationNoteInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request: Request, authorization: AutopayAuthorization, data: dict) -> None:
        services.authorization_confirm(actor=request.user, authorization=authorization, note=data["note"])


class AuthorizationRejectApi(_AuthorizationActionApi):
    permission_classes = role_permissions(ADMIN)
    input_serializer = AuthorizationNoteInSerializer

    @_action_schema("authorizations_reject", AuthorizationNoteInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request: Request, authorization: AutopayAuthorization, data: dict) -> None:
        services.authorization_reject(actor=request.user, authorization=authorization, note=data["note"])


class AuthorizationRevokeApi(_AuthorizationActionApi):
    permission_classes = role_permissions(SIGNERS)
    input_serializer = AuthorizationNoteInSerializer

    @_action_schema("authorizations_revoke", AuthorizationNoteInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request: Request, authorization: AutopayAuthorization, data: dict) -> None:
        services.authorization_revoke(actor=request.user, authorization=authorization, note=data["note"])


class AuthorizationEventsApi(PortalAPIView):
    permission_classes = role_permissions(UNIT | TREASURY)

    @extend_schema(operation_id="authorizations_events", responses=AutopayEventSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        authorization = selectors.access_authorization(request.user, pk)
        return Response(AutopayEventSerializer(selectors.authorization_events(authorization), many=True).data)


# --- supplier invoices ---------------------------------------------------------------------



class SupplierInvoiceListApi(PortalAPIView):
    permission_classes = role_permissions(SUPPLIER)

    @extend_schema(operation_id="supplier_invoices_list", responses=paginated(SupplierInvoiceSerializer),
                   parameters=[INVOICE_STATUS.schema(), *NUMBERED_PAGE_PARAMETERS])
    def get(self, request: Request) -> Response:
        qs = selectors.supplier_invoices(request.user, status=INVOICE_STATUS.read(request))
        return _paginate(self, request, qs, SupplierInvoiceSerializer)

    @extend_schema(
        operation_id="supplier_invoices_create", request=InvoiceInSerializer,
        responses={201: SupplierInvoiceSerializer, 200: SupplierInvoiceSerializer},
        description="201 with status `pending`; the same invoice_number again returns the first invoice (200); "
        "the same number with another content is 409 idempotency_conflict.",
    )
    def post(self, request: Request) -> Response:
        data = _valid(InvoiceInSerializer, request)
        invoice, is_new = services.supplier_invoice_receive(actor=request.user, **data)
        body = SupplierInvoiceSerializer(selectors.access_supplier_invoice(request.user, invoice.pk)).data
        return created(body) if is_new else Response(body)


class SupplierInvoiceApi(PortalAPIView):
    permission_classes = role_permissions(SUPPLIER)

    @extend_schema(operation_id="supplier_invoices_retrieve", responses=SupplierInvoiceSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(SupplierInvoiceSerializer(selectors.access_supplier_invoice(request.user, pk)).data)


# --- the units' and the treasury's side -------------------------------------------------------


class AutopayInvoiceListApi(PortalAPIView):
    """Invoices decided for the caller's units (unit users; treasury staff: their offices' units)."""

    permission_classes = role_permissions(UNIT | TREASURY)

    @extend_schema(operation_id="autopay_invoices_list", responses=paginated(AutopayInvoiceSerializer),
                   parameters=[INVOICE_STATUS.schema(), q.UNIT.schema(), q.SUPPLIER.schema(),
                               *NUMBERED_PAGE_PARAMETERS])
    def get(self, request: Request) -> Response:
        qs = selectors.invoices_visible(
            request.user, status=INVOICE_STATUS.read(request), unit=q.UNIT.read(request),
            supplier=q.SUPPLIER.read(request),
        ).exclude(unit__isnull=True)
        return _paginate(self, request, qs, AutopayInvoiceSerializer)


class AutopayExceptionListApi(PortalAPIView):
    """The exception list: invoices not paid automatically, with the reason.
    Open exceptions by default; `closed=true` lists those closed (handled another way)."""

    permission_classes = role_permissions(UNIT | TREASURY)

    @extend_schema(operation_id="autopay_exceptions_list", responses=paginated(AutopayInvoiceSerializer),
                   parameters=[q.UNIT.schema(), EXCEPTION_CODE.schema(), CLOSED.schema(), *NUMBERED_PAGE_PARAMETERS])
    def get(self, request: Request) -> Response:
        qs = selectors.exceptions_visible(
            request.user, unit=q.UNIT.read(request), code=EXCEPTION_CODE.read(request),
            closed=bool(CLOSED.read(request)),
        )
        return _paginate(self, request, qs, AutopayInvoiceSerializer)


class _InvoiceActionApi(PortalAPIView):
    """One POST on an invoice of the caller's units (another unit's: 404), one service."""

    permission_classes = role_permissions(EXCEPTION_HANDLERS)
    input_serializer: type = InvoiceRetryInSerializer

    def post(self, request: Request, pk: int) -> Response:
        invoice = selectors.access_unit_invoice(request.user, pk)
        data = _valid(self.input_serializer, request)
        self.perform(request, invoice, data)
        return Response(AutopayInvoiceSerializer(selectors.access_unit_invoice(request.user, pk)).data)

    def perform(self, request: Request, invoice: SupplierInvoice, data: dict) -> None:
        raise NotImplementedError


class AutopayInvoiceRetryApi(_InvoiceActionApi):
    input_serializer = InvoiceRetryInSerializer

    @extend_schema(
        operation_id="autopay_invoices_retry", request=InvoiceRetryInSerializer, responses=AutopayInvoiceSerializer,
        description="An open exception goes back to `pending`; the next run (queued now, at the latest the "
        "scheduled one within 10 minutes) decides it again. 409 `invoice_not_in_exception` (already retried or "
        "paid), `exception_closed`, `period_already_paid` (a `duplicate_period` exception), "
        "`amount_needs_confirmation` (an `amount_anomaly` exception: the account holder confirms it).",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request: Request, invoice: SupplierInvoice, data: dict) -> None:
        services.autopay_invoice_retry(actor=request.user, invoice=invoice, note=data["note"])


class AutopayInvoiceConfirmAmountApi(_InvoiceActionApi):
    input_serializer = InvoiceRetryInSerializer

    @extend_schema(
        operation_id="autopay_invoices_confirm_amount", request=InvoiceRetryInSerializer,
        responses=AutopayInvoiceSerializer,
        description="The unit's account holder confirms an amount held as unusual (`amount_anomaly`): the "
        "invoice goes back to `pending` and the next run pays it without the anomaly check (authorization, caps, "
        "budget and balance still apply). 403 for anyone but the account holder; 409 `amount_not_held`, "
        "`invoice_not_in_exception`, `exception_closed`.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request: Request, invoice: SupplierInvoice, data: dict) -> None:
        services.autopay_invoice_confirm_amount(actor=request.user, invoice=invoice, note=data["note"])


class AutopayInvoiceCloseApi(_InvoiceActionApi):
    input_serializer = InvoiceCloseInSerializer

    @extend_schema(
        operation_id="autopay_invoices_close", request=InvoiceCloseInSerializer, responses=AutopayInvoiceSerializer,
        description="The exception was handled another way (paid by a voucher, disputed with the supplier): it "
        "leaves the open list and is never retried; its status stays `exception`. 409 `invoice_not_in_exception`, "
        "`exception_closed`.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request: Request, invoice: SupplierInvoice, data: dict) -> None:
        services.autopay_invoice_close(actor=request.user, invoice=invoice, note=data["note"])


class AutopayRunListApi(PortalAPIView):
    permission_classes = role_permissions(TREASURY)

    @extend_schema(operation_id="autopay_runs_list", responses=AutopayRunSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = [selectors.autopay_run_progress(run) for run in selectors.autopay_runs()]
        return Response(AutopayRunSerializer(rows, many=True).data)


class AuthorizationRollOverApi(PortalAPIView):
    permission_classes = role_permissions(SIGNERS)

    @extend_schema(
        operation_id="authorizations_roll_over", request=None, responses={201: AuthorizationDetailSerializer},
        description="A signer of the unit rolls an active authorization on a budget line of year N over to year "
        "N+1: a new `draft` on the unit's matching line (same classification codes), valid for the new year, "
        "which the two signers sign and the account holder submits as any authorization; the treasury confirms "
        "it. A repeat returns the same draft. 409 `budget_line_missing` (no matching line of the new year yet), "
        "409 `invalid_transition`.",
    )
    def post(self, request: Request, pk: int) -> Response:
        authorization = selectors.access_authorization(request.user, pk)
        new = services.authorization_roll_over(actor=request.user, authorization=authorization)
        return created(_detail(new, request))
