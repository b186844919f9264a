"""API v1 of vouchers, the catalogue and budget lines: validate the input's
shape → one selector or service → serialize. Every POST is idempotent with an
Idempotency-Key (PortalAPIView)."""


from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import role_permissions
from accounts.selectors import access_unit
from payments.selectors.budget import budget_lines_visible
from treasury_portal import query as q
from treasury_portal.access_policy import REVIEWERS, SIGNERS, TREASURY, UNIT
from treasury_portal.api import (
    NUMBERED_PAGE_PARAMETERS,
    KeysetPagination,
    PortalAPIView,
    PortalPagination,
    created,
    paginated,
)
from treasury_portal.errors import NotFound, ValidationFailed
from treasury_portal.parsers import PortalJSONParser, PortalMultiPartParser
from vouchers import selectors, services
from vouchers import serializers as s
from vouchers.models import ProcedureVersion, ReasonKind, Voucher, VoucherStatus

YEAR_CLOSED = ("409 `fiscal_year_closed`: the voucher's fiscal year is closed at its unit's treasury office (the "
               "adjustment period, by default until 31 January of the next year, is over, or the office closed the "
               "year: `GET /api/v1/fiscal-year-closes`); a voucher the close carried to the new year goes on.")


UNIT_OR_TREASURY = UNIT | TREASURY
OFFICER = frozenset({"control_officer"})
APPROVER = frozenset({"approver"})
HOLDER = frozenset({"account_holder"})


STATUSES = q.choice("status", VoucherStatus.values, "One status or several, comma-separated", many=True)
PROCEDURE = q.text("procedure", "Procedure code", pattern=r"^[0-9A-Za-z./_\-]{1,30}$", max_length=30)
FISCAL_YEAR = q.integer("fiscal_year", minimum=2000, maximum=2100)
CATALOGUE_DAY = q.day("date", "Catalogue in force on this day")
REASON_KIND = q.choice("kind", ReasonKind.values)
DUE_BEFORE = q.day("due_before")
MINE = q.boolean("mine", "Only what I control (and what awaits approval)")
INCLUDE_VOIDED = q.boolean("all", "Include voided signatures")


def _paginate(view: PortalAPIView, request: Request, queryset, serializer_class) -> Response:  # noqa: ANN001
    paginator = PortalPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _voucher_page(request: Request, queryset) -> Response:  # noqa: ANN001
    """A page of voucher rows: by cursor (keyset) unless `?page=` asks for a
    numbered page (KeysetPagination)."""
    rows = queryset.values(*s.LIST_COLUMNS)
    if "page" in request.query_params:
        paginator = PortalPagination()
        page = paginator.paginate_queryset(rows, request)
        return paginator.get_paginated_response(s.voucher_list_rows(page))
    page, links = KeysetPagination(rows).paginate(request)
    return Response({**links, "results": s.voucher_list_rows(page)})


PAGE_PARAMETERS = [
    q.CURSOR.schema(),
    q.integer("page", "Numbered pages instead of cursors; the body then has `count`", minimum=1).schema(),
    q.PAGE_SIZE.schema(),
]


def _detail(request: Request, pk: int) -> Response:
    voucher = selectors.access_voucher(request.user, pk)
    return Response(s.voucher_detail_data(voucher))


def _written(request: Request, voucher: Voucher) -> dict:
    """The detail of a voucher a service has just written, from the instance it
    locked and wrote (the user's access was checked before the write): only what
    it did not read is read, instead of the whole voucher again."""
    return s.voucher_detail_data(selectors.voucher_detail_complete(voucher, known=[request.user]))


# --- the public catalogue and reference data ------------------------------------


class ProcedureListApi(PortalAPIView):
    """The procedure catalogue in force today (or on ?date=): public."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="procedures_list", responses=s.ProcedureSerializer(many=True), auth=[],
        parameters=[CATALOGUE_DAY.schema()],
    )
    def get(self, request: Request) -> Response:
        day = CATALOGUE_DAY.read(request) or selectors.local_today()
        upcoming: dict[int, ProcedureVersion] = {}
        for procedure, version in selectors.procedures_upcoming(day, with_documents=False):
            upcoming.setdefault(procedure.pk, version)  # the earliest one
        rows = [
            {
                "procedure": procedure,
                "version": version,
                "processing_days_today": selectors.processing_days_for(version, day),
                "next_version": upcoming.get(procedure.pk),
            }
            for procedure, version in selectors.procedures_in_force(day)
        ]
        return Response(s.ProcedureSerializer(rows, many=True).data)


class BankListApi(PortalAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="banks_list", responses=s.BankSerializer(many=True), auth=[],
        description="The bank directory: each bank's short code, NAPAS BIN, BIC and name. Any of the first "
        "three names a payee's bank (`payee.bank_code`).",
    )
    def get(self, request: Request) -> Response:
        return Response(s.BankSerializer(selectors.banks(), many=True).data)


class ReasonCodeListApi(PortalAPIView):
    @extend_schema(
        operation_id="reason_codes_list", responses=s.ReasonCodeSerializer(many=True),
        parameters=[REASON_KIND.schema()],
    )
    def get(self, request: Request) -> Response:
        kind = REASON_KIND.read(request)
        from vouchers.models import ReasonCode

        qs = ReasonCode.objects.filter(is_active=True).order_by("kind", "code")
        if kind:
            qs = qs.filter(kind=kind)
        return Response(s.ReasonCodeSerializer(qs, many=True).data)


# --- budget lines ------------------------------------------------------------


class BudgetLineListApi(PortalAPIView):
    permission_classes = role_permissions(UNIT_OR_TREASURY)

    @extend_schema(
        operation_id="budget_lines_list", responses=paginated(s.BudgetLineSerializer),
        parameters=[q.UNIT.schema(), FISCAL_YEAR.schema(), *NUMBERED_PAGE_PARAMETERS],
    )
    def get(self, request: Request) -> Response:
        qs = budget_lines_visible(
            request.user, unit=q.UNIT.read(request), fiscal_year=FISCAL_YEAR.read(request)
        ).order_by("unit__code", "fiscal_year", "ndkt", "id")
        return _paginate(self, request, qs, s.BudgetLineSerializer)


# --- vouchers ----------------------------------------------------------------


class VoucherListApi(PortalAPIView):
    permission_classes = role_permissions(UNIT_OR_TREASURY)

    @extend_schema(
        operation_id="vouchers_list", responses=paginated(s.VoucherListSerializer),
        parameters=[
            *PAGE_PARAMETERS, STATUSES.schema(), q.UNIT.schema(), PROCEDURE.schema(), FISCAL_YEAR.schema(),
        ],
    )
    def get(self, request: Request) -> Response:
        qs = selectors.voucher_list(
            request.user,
            status=STATUSES.read(request),
            unit=q.UNIT.read(request),
            procedure=PROCEDURE.read(request),
            fiscal_year=FISCAL_YEAR.read(request),
        )
        return _voucher_page(request, qs)

    @extend_schema(operation_id="vouchers_create", request=s.VoucherCreateSerializer,
                   responses={201: s.VoucherDetailSerializer}, description=YEAR_CLOSED)
    def post(self, request: Request) -> Response:
        data = s.VoucherCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        unit = access_unit(request.user, v["unit"])
        voucher = services.voucher_create(
            actor=request.user, unit=unit, procedure=v["procedure"], mode=v["mode"], fiscal_year=v["fiscal_year"],
            description=v["description"], payee=v["payee"], lines=[dict(line) for line in v["lines"]],
            contract_number=v.get("contract_number", ""), contract_value=v.get("contract_value"),
            deposit_account=v.get("deposit_account"), settles=v.get("settles"),
        )
        # Created in this request: nothing attached or signed yet.
        selectors.set_prefetched(voucher, "attachments", [])
        selectors.set_prefetched(voucher, "signatures", [])
        return created(_written(request, voucher))


class VoucherDetailApi(PortalAPIView):
    permission_classes = role_permissions(UNIT_OR_TREASURY)

    @extend_schema(operation_id="vouchers_retrieve", responses=s.VoucherDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, pk)

    @extend_schema(operation_id="vouchers_update", request=s.VoucherUpdateSerializer,
                   responses=s.VoucherDetailSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        voucher = selectors.access_voucher(request.user, pk, detail=False)
        data = s.VoucherUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "lines" in changes:
            changes["lines"] = [dict(line) for line in changes["lines"]]
        if not changes:
            raise ValidationFailed(_("Không có trường nào để sửa."))
        services.voucher_update(actor=request.user, voucher=voucher, data=changes)
        return _detail(request, pk)


class VoucherAttachmentListApi(PortalAPIView):
    permission_classes = role_permissions(UNIT_OR_TREASURY)
    parser_classes = [PortalMultiPartParser, FormParser, PortalJSONParser]

    @extend_schema(operation_id="voucher_attachments_list", responses=s.AttachmentSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        voucher = selectors.access_voucher(request.user, pk, detail=False)
        return Response(s.AttachmentSerializer(voucher.attachments.all(), many=True).data)

    @extend_schema(operation_id="voucher_attachments_create", request={"multipart/form-data": s.AttachmentInSerializer},
                   responses={201: s.AttachmentSerializer})
    def post(self, request: Request, pk: int) -> Response:
        voucher = selectors.access_voucher(request.user, pk, detail=False)
        data = s.AttachmentInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        attachment = services.attachment_add(
            actor=request.user, voucher=voucher, file=upload, kind=data.validated_data["kind"]
        )
        return created(s.AttachmentSerializer(attachment).data)


class VoucherAttachmentApi(PortalAPIView):
    """Download an attachment (only through this permission-checked view)."""

    permission_classes = role_permissions(UNIT_OR_TREASURY)

    @extend_schema(
        operation_id="voucher_attachment_download",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, pk: int, att_id: int) -> FileResponse:
        attachment = selectors.access_attachment(request.user, pk, att_id)
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, OSError):
            raise NotFound() from None
        response = FileResponse(
            handle, content_type=attachment.content_type, as_attachment=True, filename=attachment.original_name
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


class _VoucherActionApi(PortalAPIView):
    """POST /vouchers/{id}/<action>: access check (404), input shape, service,
    the voucher as it is now (`perform` returns the voucher the service wrote, or
    a response of its own)."""

    input_serializer: type | None = None

    def perform(self, request: Request, voucher: Voucher, data: dict) -> Voucher | Response:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        # Not read here: the service's lock reads the row only if the user may
        # see it (404 otherwise), access check and lock in one statement.
        voucher = selectors.VoucherForWrite(request.user, pk)
        data: dict = {}
        if self.input_serializer is not None:
            serializer = self.input_serializer(data=request.data)
            if not serializer.is_valid():
                selectors.access_voucher_for_write(request.user, pk)  # others' vouchers: 404 before the input's 400
                serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
        result = self.perform(request, voucher, data)
        if isinstance(result, Response):
            return result
        if wants_representation(request):
            response = Response(_written(request, result))
            response["Preference-Applied"] = "return=representation"
            return response
        return Response(s.voucher_transition_data(result))


def wants_representation(request: Request) -> bool:
    """`Prefer: return=representation` (RFC 7240): the whole voucher instead of
    the transition's small answer."""
    prefer = request.headers.get("Prefer", "")
    return any(p.strip().lower().replace(" ", "") == "return=representation"
               for header in prefer.split(",") for p in header.split(";"))


PREFER = OpenApiParameter(
    "Prefer", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="`return=representation` (RFC 7240): answer with the whole voucher (VoucherDetail, header "
    "`Preference-Applied: return=representation`) instead of the transition's small body (VoucherTransition).",
)


def _action_schema(operation_id: str, request_serializer, response=None, **kw):  # noqa: ANN001, ANN003, ANN202
    if response is None:  # a transition: the small answer, or the whole voucher on `Prefer: return=representation`
        response = PolymorphicProxySerializer(
            component_name="VoucherTransitionResult",
            serializers=[s.VoucherTransitionSerializer, s.VoucherDetailSerializer], resource_type_field_name=None,
        )
        kw["parameters"] = [*kw.get("parameters", []), PREFER]
    return extend_schema(operation_id=operation_id, request=request_serializer, responses=response, **kw)



class VoucherSignApi(_VoucherActionApi):
    permission_classes = role_permissions(SIGNERS)
    input_serializer = s.SignInSerializer

    @_action_schema("vouchers_sign", s.SignInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request, voucher, data):  # noqa: ANN001, ANN201
        signature = services.voucher_sign(
            actor=request.user, voucher=voucher, key_id=data["key_id"], signature=data["signature"]
        )
        return signature.voucher


class VoucherSubmitApi(_VoucherActionApi):
    permission_classes = role_permissions(HOLDER)

    @_action_schema("vouchers_submit", None, description=YEAR_CLOSED)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request, voucher, data):  # noqa: ANN001, ANN201
        return services.voucher_submit(actor=request.user, voucher=voucher)


class VoucherWithdrawApi(_VoucherActionApi):
    permission_classes = role_permissions(UNIT)
    input_serializer = s.NoteInSerializer

    @_action_schema("vouchers_withdraw", s.NoteInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request, voucher, data):  # noqa: ANN001, ANN201
        return services.voucher_withdraw(actor=request.user, voucher=voucher, note=data.get("note", ""))


class VoucherClaimApi(_VoucherActionApi):
    permission_classes = role_permissions(OFFICER)
    input_serializer = s.NoteInSerializer

    @_action_schema("vouchers_claim", s.NoteInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request, voucher, data):  # noqa: ANN001, ANN201
        return services.voucher_claim(actor=request.user, voucher=voucher, explanation=data.get("explanation", ""))


class VoucherReturnApi(_VoucherActionApi):
    permission_classes = role_permissions(OFFICER)
    input_serializer = s.ReturnInSerializer

    @_action_schema("vouchers_return", s.ReturnInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request, voucher, data):  # noqa: ANN001, ANN201
        return services.voucher_return_for_supplement(
            actor=request.user, voucher=voucher, deficiencies=[dict(d) for d in data["deficiencies"]],
            explanation=data.get("explanation", ""),
        )


class VoucherPassApi(_VoucherActionApi):
    permission_classes = role_permissions(OFFICER)
    input_serializer = s.PassInSerializer

    @_action_schema("vouchers_pass", s.PassInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request, voucher, data):  # noqa: ANN001, ANN201
        return services.voucher_pass(
            actor=request.user, voucher=voucher, note=data.get("note", ""), checklist=data.get("checklist"),
            explanation=data.get("explanation", ""),
        )


class VoucherRefuseApi(_VoucherActionApi):
    permission_classes = role_permissions(OFFICER)
    input_serializer = s.RefuseInSerializer

    @_action_schema("vouchers_refuse", s.RefuseInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request, voucher, data):  # noqa: ANN001, ANN201
        return services.voucher_refuse(
            actor=request.user, voucher=voucher, reasons=[dict(r) for r in data["reasons"]],
            explanation=data.get("explanation", ""),
        )


class VoucherApproveApi(_VoucherActionApi):
    permission_classes = role_permissions(APPROVER)
    input_serializer = s.NoteInSerializer

    @_action_schema("vouchers_approve", s.NoteInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request, voucher, data):  # noqa: ANN001, ANN201
        return services.voucher_approve(
            actor=request.user, voucher=voucher, note=data.get("note", ""), explanation=data.get("explanation", "")
        )


class VoucherSendBackApi(_VoucherActionApi):
    permission_classes = role_permissions(APPROVER)
    input_serializer = s.SendBackInSerializer

    @_action_schema("vouchers_send_back", s.SendBackInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request, voucher, data):  # noqa: ANN001, ANN201
        return services.voucher_send_back(
            actor=request.user, voucher=voucher, note=data["note"], explanation=data.get("explanation", "")
        )


class VoucherReleaseApi(_VoucherActionApi):
    permission_classes = role_permissions(OFFICER)
    input_serializer = s.ReleaseInSerializer

    @_action_schema("vouchers_release", s.ReleaseInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request, voucher, data):  # noqa: ANN001, ANN201
        return services.voucher_release(actor=request.user, voucher=voucher, note=data["note"])


class VoucherReassignApi(_VoucherActionApi):
    permission_classes = role_permissions(APPROVER)
    input_serializer = s.ReassignInSerializer

    @_action_schema("vouchers_reassign", s.ReassignInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request, voucher, data):  # noqa: ANN001, ANN201
        return services.voucher_reassign(
            actor=request.user, voucher=voucher, officer=data["officer"], note=data.get("note", "")
        )


class VoucherReturnExceptionApi(_VoucherActionApi):
    permission_classes = role_permissions(APPROVER)
    input_serializer = s.ReturnExceptionInSerializer

    @_action_schema("vouchers_return_exception", s.ReturnExceptionInSerializer, {201: s.ReturnExceptionSerializer})
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request, voucher, data):  # noqa: ANN001, ANN201
        exception = services.voucher_grant_return_exception(
            actor=request.user, voucher=voucher, justification=data["justification"]
        )
        return created(s.ReturnExceptionSerializer(exception).data)


class VoucherRatingApi(_VoucherActionApi):
    permission_classes = role_permissions(UNIT)
    input_serializer = s.RatingInSerializer

    @_action_schema("vouchers_rate", s.RatingInSerializer, {201: s.RatingSerializer})
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, request, voucher, data):  # noqa: ANN001, ANN201
        rating = services.voucher_rate(
            actor=request.user, voucher=voucher, score=data["score"], comment=data.get("comment", "")
        )
        return created(s.RatingSerializer(rating).data)


class VoucherEventListApi(PortalAPIView):
    permission_classes = role_permissions(UNIT_OR_TREASURY)

    @extend_schema(operation_id="voucher_events_list", responses=s.EventSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        voucher = selectors.access_voucher(request.user, pk, detail=False)
        return Response(s.EventSerializer(selectors.voucher_timeline(voucher), many=True).data)


class VoucherChangesApi(PortalAPIView):
    """What the unit changed since the last return (for the officer)."""

    permission_classes = role_permissions(UNIT_OR_TREASURY)

    @extend_schema(operation_id="voucher_changes_list", responses=s.ChangeSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        voucher = selectors.access_voucher(request.user, pk)
        return Response(s.ChangeSerializer(selectors.voucher_changes_since_return(voucher), many=True).data)


class VoucherPreflightApi(PortalAPIView):
    permission_classes = role_permissions(UNIT_OR_TREASURY)

    @extend_schema(operation_id="voucher_preflight", responses=s.PreflightSerializer)
    def get(self, request: Request, pk: int) -> Response:
        voucher = selectors.access_voucher(request.user, pk)
        return Response(s.PreflightSerializer(selectors.voucher_preflight(voucher)).data)


class VoucherSignatureChecksApi(PortalAPIView):
    """Each signature verified now against the current content."""

    permission_classes = role_permissions(UNIT_OR_TREASURY)

    @extend_schema(operation_id="voucher_signatures_verify", responses=s.SignatureCheckSerializer(many=True),
                   parameters=[INCLUDE_VOIDED.schema()])
    def get(self, request: Request, pk: int) -> Response:
        include_voided = bool(INCLUDE_VOIDED.read(request))
        voucher = selectors.access_voucher(request.user, pk)
        checks = selectors.signature_checks(voucher, include_voided=include_voided)
        return Response(s.SignatureCheckSerializer(checks, many=True).data)


class ReviewQueueApi(PortalAPIView):
    permission_classes = role_permissions(REVIEWERS)

    @extend_schema(
        operation_id="review_queue", responses=paginated(s.VoucherListSerializer),
        parameters=[
            *PAGE_PARAMETERS, q.UNIT.schema(), PROCEDURE.schema(), STATUSES.schema(), DUE_BEFORE.schema(),
            MINE.schema(),
        ],
    )
    def get(self, request: Request) -> Response:
        filters = {
            "unit": q.UNIT.read(request),
            "procedure": PROCEDURE.read(request),
            "status": STATUSES.read(request),
            "due_before": DUE_BEFORE.read(request),
            "mine": bool(MINE.read(request)),
        }
        if "page" in request.query_params:
            return _voucher_page(request, selectors.review_queue(request.user, **filters))
        # Cursor pages (the default): the queue's page statement, written once
        # (selectors.review_queue_rows), the cursor and links as for every list.
        pager = KeysetPagination(Voucher.objects.order_by(*selectors.REVIEW_QUEUE_ORDERING))
        state, after = pager.cursor(request)
        size, _raw, backwards = state
        rows = selectors.review_queue_rows(request.user, **filters, after=after, backwards=backwards, limit=size + 1)
        page, links = pager.finish(request, rows, state)
        return Response({**links, "results": s.voucher_list_rows(page)})
