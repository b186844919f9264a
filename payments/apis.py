"""API v1 of the payments app: accounts and their transactions and statements,
deposits, notifications, result PDFs and debit advices, payment intents,
retries and bank files. Thin: validate → one selector/service → serialize."""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import TREASURY_ROLES
from accounts.selectors import has_role
from payments import pdf
from payments.models import AccountKind, Notification, PaymentIntent, PaymentIntentStatus
from payments.selectors import documents as document_selectors
from payments.selectors import ledger as ledger_selectors
from payments.selectors import notifications as notification_selectors
from payments.selectors import payment as payment_selectors
from payments.services import bank_files as bank_file_services
from payments.services import bank_status as bank_status_services
from payments.services import ledger as ledger_services
from payments.services import notifications as notification_services
from payments.services.documents import debit_advice_render
from treasury_portal import query as q
from treasury_portal.api import NUMBERED_PAGE_PARAMETERS, PortalAPIView, PortalPagination, created, paginated
from treasury_portal.errors import NotFound, PermissionDenied
from treasury_portal.parsers import PortalMultiPartParser

# --- serializers -----------------------------------------------------------------


class AccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=AccountKind.choices)
    unit = serializers.CharField(source="unit.code", allow_null=True, default=None)
    budget_level = serializers.CharField()
    programme = serializers.CharField()
    balance = serializers.IntegerField(help_text="credits − debits, in đồng")
    allow_negative = serializers.BooleanField()


class TransactionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    kind = serializers.CharField()
    direction = serializers.ChoiceField(choices=["debit", "credit"])
    amount = serializers.IntegerField()
    signed_amount = serializers.IntegerField(help_text="negative for a debit of this account")
    balance_after = serializers.IntegerField()
    counterparty_name = serializers.SerializerMethodField()
    counterparty_account = serializers.SerializerMethodField()
    voucher_id = serializers.IntegerField(allow_null=True)
    voucher_number = serializers.CharField(source="voucher.number", allow_null=True, default=None)
    description = serializers.CharField()
    reference = serializers.CharField(source="key")

    def _other(self, obj):  # noqa: ANN001, ANN202
        return obj.credit_account if obj.direction == "debit" else obj.debit_account

    def get_counterparty_name(self, obj) -> str:  # noqa: ANN001
        return obj.counterparty_name or self._other(obj).name

    def get_counterparty_account(self, obj) -> str:  # noqa: ANN001
        return obj.counterparty_account or self._other(obj).number


class DepositInSerializer(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1)
    reference = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    depositor = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class NotificationSerializer(serializers.ModelSerializer):
    unread = serializers.SerializerMethodField()
    unit = serializers.CharField(source="unit.code", allow_null=True, default=None)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "data", "unit", "voucher_id", "created_at", "read_at", "unread"]

    def get_unread(self, obj: Notification) -> bool:
        return obj.read_at is None


class PaymentIntentSerializer(serializers.ModelSerializer):
    voucher_number = serializers.CharField(source="voucher.number")
    unit = serializers.CharField(source="voucher.unit.code")
    amount = serializers.IntegerField(source="voucher.total_amount")
    clearing_bank = serializers.CharField(source="clearing_bank.code", allow_null=True, default=None)

    class Meta:
        model = PaymentIntent
        fields = [
            "id", "voucher_id", "voucher_number", "unit", "amount", "status", "attempts", "failure_code",
            "last_error", "clearing_bank", "bank_file_id", "created_at", "updated_at", "completed_at",
        ]


class BankFileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    bank = serializers.CharField(source="bank.code")
    bank_bic = serializers.CharField(source="bank.bic")
    office = serializers.CharField(source="office.code", allow_null=True, default=None)
    cycle = serializers.CharField()
    message_id = serializers.CharField()
    transfer_count = serializers.IntegerField()
    control_sum = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class BankRejectionSerializer(serializers.Serializer):
    end_to_end_id = serializers.CharField(help_text="The transfer's end-to-end id (the voucher number).")
    reason_code = serializers.CharField(help_text="The bank's ISO status reason code, e.g. AC04.")
    reason = serializers.CharField()
    voucher_id = serializers.IntegerField(allow_null=True)
    amount = serializers.IntegerField(help_text="What came back to the unit's accounts, in đồng.")
    reversed = serializers.BooleanField()
    outcome = serializers.ChoiceField(
        choices=["reversed", "not_in_file", "unknown_transaction", "autopay_not_handled"],
        help_text="reversed: the payment came back and the voucher is payment_failed; not_in_file: "
        "not (or no longer) a payment of this file, nothing moved; autopay_not_handled: left to the treasury.",
    )
    created_at = serializers.DateTimeField()


class BankStatusReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    message_id = serializers.CharField(help_text="The report's own message id (GrpHdr/MsgId).")
    bank_file_id = serializers.IntegerField()
    bank_file_message_id = serializers.CharField(source="bank_file.message_id")
    bank = serializers.CharField(source="bank_file.bank.code")
    group_status = serializers.CharField()
    transactions = serializers.IntegerField()
    rejected = serializers.IntegerField()
    rejections = BankRejectionSerializer(many=True, source="rejections.all")
    created_at = serializers.DateTimeField()


class BankStatusReportInSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The bank's pain.002 status report (XML).")


class FileDownloadNegotiation(BaseContentNegotiation):
    """Download endpoints answer with the file itself (an HttpResponse, whatever
    the client's Accept header says) or with a JSON error body: DRF's renderer
    negotiation must neither refuse `Accept: application/pdf` with 406 nor render
    an error as a PDF."""

    def select_parser(self, request, parsers):  # noqa: ANN001, ANN201
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):  # noqa: ANN001, ANN201
        return renderers[0], renderers[0].media_type


class FileDownloadApi(PortalAPIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FileDownloadNegotiation


def file_response(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _paginate(view: PortalAPIView, request: Request, queryset, serializer_class) -> Response:  # noqa: ANN001
    paginator = PortalPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


PDF_RESPONSE = {(200, "application/pdf"): OpenApiTypes.BINARY}
PERIOD_FROM = q.day("from", "first day (default: the 1st of this month)")
PERIOD_TO = q.day("to", "last day (default: today; at most a year after `from`)")
PERIOD = [PERIOD_FROM.schema(), PERIOD_TO.schema()]
ACCOUNT_KIND = q.choice("kind", AccountKind.values)
UNREAD = q.boolean("unread", "1: only unread ones")
INTENT_STATUS = q.choice("status", PaymentIntentStatus.values)


def _period(request: Request) -> tuple:
    return ledger_selectors.parse_period(PERIOD_FROM.read(request), PERIOD_TO.read(request))


# --- accounts ---------------------------------------------------------------------


class AccountListApi(PortalAPIView):
    @extend_schema(
        operation_id="accounts_list", responses=paginated(AccountSerializer),
        parameters=[
            q.UNIT.schema(), ACCOUNT_KIND.schema(), *NUMBERED_PAGE_PARAMETERS,
        ],
    )
    def get(self, request: Request) -> Response:
        qs = ledger_selectors.accounts_visible(request.user, unit=q.UNIT.read(request), kind=ACCOUNT_KIND.read(request))
        return _paginate(self, request, qs, AccountSerializer)


class AccountTransactionsApi(PortalAPIView):
    @extend_schema(
        operation_id="account_transactions", responses=paginated(TransactionSerializer),
        parameters=NUMBERED_PAGE_PARAMETERS,
    )
    def get(self, request: Request, pk: int) -> Response:
        account = ledger_selectors.access_account(request.user, pk)
        return _paginate(self, request, ledger_selectors.account_transactions(account), TransactionSerializer)


class AccountStatementCsvApi(FileDownloadApi):

    @extend_schema(operation_id="account_statement_csv", parameters=PERIOD,
                   responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        account = ledger_selectors.access_account(request.user, pk)
        start, end = _period(request)
        context = document_selectors.statement_context(account, ledger_selectors.account_statement(account, start, end))
        return file_response(
            pdf.statement_csv(context), filename=f"sao-ke-{account.number}-{start}-{end}.csv",
            content_type="text/csv; charset=utf-8",
        )


class AccountStatementPdfApi(FileDownloadApi):

    @extend_schema(operation_id="account_statement_pdf", parameters=PERIOD, responses=PDF_RESPONSE)
    def get(self, request: Request, pk: int) -> HttpResponse:
        account = ledger_selectors.access_account(request.user, pk)
        start, end = _period(request)
        context = document_selectors.statement_context(account, ledger_selectors.account_statement(account, start, end))
        return file_response(
            pdf.render_statement(context), filename=f"sao-ke-{account.number}-{start}-{end}.pdf",
            content_type="application/pdf",
        )


class AccountDepositsApi(PortalAPIView):
    """Treasury administrators credit a unit's deposit account."""

    @extend_schema(operation_id="account_deposit_create", request=DepositInSerializer,
                   responses={201: TransactionSerializer})
    def post(self, request: Request, pk: int) -> Response:
        account = ledger_selectors.access_account_administered(request.user, pk)
        data = DepositInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        transfer = ledger_services.deposit_credit(actor=request.user, account=account, **data.validated_data)
        row = ledger_selectors.account_transactions(account).get(pk=transfer.pk)
        return created(TransactionSerializer(row).data)


# --- documents --------------------------------------------------------------------


class DebitAdvicePdfApi(FileDownloadApi):

    @extend_schema(operation_id="transfer_debit_advice_pdf", responses=PDF_RESPONSE)
    def get(self, request: Request, pk: int) -> HttpResponse:
        transfer = document_selectors.access_debit_advice_transfer(request.user, pk)
        document = debit_advice_render(transfer_id=transfer.pk)
        if document is None:
            raise NotFound()
        return file_response(
            document.file.open("rb").read(), filename=f"giay-bao-no-{transfer.pk}.pdf", content_type="application/pdf"
        )


# --- notifications -------------------------------------------------------------------


class NotificationListApi(PortalAPIView):
    @extend_schema(
        operation_id="notifications_list", responses=paginated(NotificationSerializer),
        parameters=[
            UNREAD.schema(), *NUMBERED_PAGE_PARAMETERS,
        ],
    )
    def get(self, request: Request) -> Response:
        unread = bool(UNREAD.read(request))
        qs = notification_selectors.notifications_of(request.user, unread=unread).select_related("unit")
        return _paginate(self, request, qs, NotificationSerializer)


class NotificationReadApi(PortalAPIView):
    @extend_schema(operation_id="notification_read", request=None, responses=NotificationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        notification = notification_services.notification_mark_read(actor=request.user, notification_id=pk)
        return Response(NotificationSerializer(notification).data)


class NotificationsReadAllApi(PortalAPIView):
    @extend_schema(operation_id="notifications_read_all", request=None,
                   responses=inline_serializer("ReadAll", {"marked": serializers.IntegerField()}))
    def post(self, request: Request) -> Response:
        return Response({"marked": notification_services.notifications_mark_all_read(actor=request.user)})


# --- the treasury's payments ----------------------------------------------------------


def _require_treasury(request: Request) -> None:
    if not has_role(request.user, *TREASURY_ROLES):
        raise PermissionDenied(_("Chỉ cán bộ kho bạc mới xem được mục này."))


class PaymentIntentListApi(PortalAPIView):
    @extend_schema(
        operation_id="payment_intents_list", responses=paginated(PaymentIntentSerializer),
        parameters=[INTENT_STATUS.schema(), *NUMBERED_PAGE_PARAMETERS],
    )
    def get(self, request: Request) -> Response:
        _require_treasury(request)
        qs = payment_selectors.intents_visible(request.user, status=INTENT_STATUS.read(request))
        return _paginate(self, request, qs, PaymentIntentSerializer)


class BankFileListApi(PortalAPIView):
    @extend_schema(
        operation_id="bank_files_list", responses=paginated(BankFileSerializer), parameters=NUMBERED_PAGE_PARAMETERS,
    )
    def get(self, request: Request) -> Response:
        _require_treasury(request)
        return _paginate(self, request, payment_selectors.bank_files_visible(request.user), BankFileSerializer)

    @extend_schema(
        operation_id="bank_files_generate", request=None, responses={201: BankFileSerializer(many=True)},
        description="Generate the pain.001 files of your offices, one per bank with payments waiting. Every file is "
        "checked against the official XSD; one that would break it is not generated and nothing is filed "
        "(409 `bank_file_invalid`).",
    )
    def post(self, request: Request) -> Response:
        files = bank_file_services.bank_files_generate(actor=request.user)
        return created(BankFileSerializer(files, many=True).data)


class BankStatusReportListApi(PortalAPIView):
    parser_classes = [PortalMultiPartParser, FormParser]

    @extend_schema(
        operation_id="bank_status_reports_list", responses=paginated(BankStatusReportSerializer),
        parameters=NUMBERED_PAGE_PARAMETERS,
    )
    def get(self, request: Request) -> Response:
        _require_treasury(request)
        return _paginate(
            self, request, payment_selectors.bank_status_reports_visible(request.user), BankStatusReportSerializer
        )

    @extend_schema(
        operation_id="bank_status_reports_import",
        request={"multipart/form-data": BankStatusReportInSerializer},
        responses={201: BankStatusReportSerializer, 200: BankStatusReportSerializer},
        description="Import a bank's pain.002 status report (treasury administrators of the file's office). "
        "It is checked against the official ISO 20022 XSD of the version it declares (validation_error "
        "otherwise, field `file`); every transfer it rejects is reversed in the ledger and its voucher "
        "reopens as payment_failed. Importing the same report again changes nothing (200).",
    )
    def post(self, request: Request) -> Response:
        _require_treasury(request)  # before the body is read
        data = BankStatusReportInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = bank_status_services.bank_status_report_import(
            actor=request.user, content=data.validated_data["file"].read(),
        )
        report = payment_selectors.bank_status_reports_visible(request.user).get(pk=result.report.pk)
        body = BankStatusReportSerializer(report).data
        return created(body) if result.created else Response(body)


class BankFileDownloadApi(FileDownloadApi):

    @extend_schema(operation_id="bank_file_download", responses={(200, "application/xml"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        _require_treasury(request)
        bank_file = payment_selectors.access_bank_file(request.user, pk)
        return file_response(
            bank_file.file.open("rb").read(), filename=f"{bank_file.message_id}.xml",
            content_type="application/xml; charset=utf-8",
        )
