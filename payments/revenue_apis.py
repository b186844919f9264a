"""API v1 of the state budget revenue (issue 12, docs/revenue.md): a treasury
office records the collections the tax collection system hands it, in batches
(`POST /api/v1/revenue-collections`), and lists them (`GET`, by cursor). Thin:
serializer → payments.services.revenue / payments.selectors.revenue."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import role_permissions
from payments.models import BudgetLevel, RevenueSource
from payments.models_revenue import MAX_REVENUE_AMOUNT
from payments.selectors import revenue as selectors
from payments.services import revenue as services
from treasury_portal import query as q
from treasury_portal.access_policy import TREASURY
from treasury_portal.api import KeysetPagination, PortalAPIView, PortalPagination, paginated

OFFICE = q.text("office", "A treasury office's code: its collections and those of the offices below",
                pattern=r"^[0-9]{4}$", max_length=4)
DATE_FROM = q.day("date_from", "Collected on or after this day")
DATE_TO = q.day("date_to", "Collected on or before this day")
LEVEL = q.choice("budget_level", BudgetLevel.values, "Budget level: 1 central, 2 provincial, 3 district, 4 commune")
CHAPTER = q.text("chapter", "Chapter (3 digits)", pattern=r"^[0-9]{3}$", max_length=3)
NDKT = q.text("ndkt", "Economic-content (sub-item) code, 4 digits", pattern=r"^[0-9]{4}$", max_length=4)
SOURCE = q.choice("source", RevenueSource.values, "Kind of revenue")
REFERENCE = q.text("reference", "The sending system's reference", pattern=r"^[0-9A-Za-z._/:-]{1,64}$",
                   max_length=64)
FILTERS = (OFFICE, DATE_FROM, DATE_TO, LEVEL, CHAPTER, NDKT, SOURCE, REFERENCE)


class RevenueRowInSerializer(serializers.Serializer):
    reference = serializers.RegexField(
        r"^[0-9A-Za-z._/:-]{1,64}\Z", max_length=64, trim_whitespace=False,
        help_text="The sending system's reference: unique per office, the row's idempotency key.",
    )
    collected_on = serializers.DateField()
    budget_level = serializers.ChoiceField(choices=BudgetLevel.choices)
    chapter = serializers.RegexField(r"^[0-9]{3}\Z", max_length=3, trim_whitespace=False)
    ndkt = serializers.RegexField(r"^[0-9]{4}\Z", max_length=4, trim_whitespace=False,
                                  help_text="Economic-content (sub-item) code of the revenue, 4 digits.")
    source = serializers.ChoiceField(choices=RevenueSource.choices)
    amount = serializers.IntegerField(min_value=1, max_value=MAX_REVENUE_AMOUNT, help_text="Whole đồng.")
    payer_name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class RevenueBatchInSerializer(serializers.Serializer):
    office = serializers.RegexField(r"^[0-9]{4}\Z", max_length=4, trim_whitespace=False,
                                    help_text="The collecting treasury office's code.")
    rows = serializers.ListField(child=RevenueRowInSerializer(), min_length=1, max_length=services.MAX_BATCH_ROWS)


class RevenueCollectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    office = serializers.CharField(source="office.code")
    reference = serializers.CharField()
    collected_on = serializers.DateField()
    budget_level = serializers.ChoiceField(choices=BudgetLevel.choices)
    chapter = serializers.CharField()
    ndkt = serializers.CharField()
    source = serializers.ChoiceField(choices=RevenueSource.choices)
    amount = serializers.IntegerField()
    payer_name = serializers.CharField()
    created_at = serializers.DateTimeField()


class RevenueRowResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The row's place in the batch, from 0.")
    reference = serializers.CharField()
    status = serializers.ChoiceField(
        choices=[("created", "created"), ("existing", "existing")],
        help_text="`created`, or `existing`: the reference was already recorded with the same content.",
    )
    id = serializers.IntegerField(source="collection.pk")


class RevenueBatchResultSerializer(serializers.Serializer):
    office = serializers.CharField()
    created = serializers.IntegerField()
    existing = serializers.IntegerField()
    rows = RevenueRowResultSerializer(many=True)


class RevenueCollectionListApi(PortalAPIView):
    permission_classes = role_permissions(TREASURY)

    @extend_schema(
        operation_id="revenue_collections_list", responses=paginated(RevenueCollectionSerializer),
        parameters=[*(f.schema() for f in FILTERS), q.CURSOR.schema(),
                    q.integer("page", "Numbered pages instead of cursors; the body then has `count`",
                              minimum=1).schema(), q.PAGE_SIZE.schema()],
        description="The revenue collected by your offices and the offices below them, newest first. "
        "404 `not_found` for an office outside your scope.",
    )
    def get(self, request: Request) -> Response:
        filters = {f.name: f.read(request) for f in FILTERS}
        rows = selectors.revenue_list(request.user, **filters)
        if "page" in request.query_params:
            paginator = PortalPagination()
            page = paginator.paginate_queryset(rows, request, view=self)
            return paginator.get_paginated_response(RevenueCollectionSerializer(page, many=True).data)
        page, links = KeysetPagination(rows).paginate(request)
        return Response({**links, "results": RevenueCollectionSerializer(page, many=True).data})

    @extend_schema(
        operation_id="revenue_collections_create", request=RevenueBatchInSerializer,
        responses={201: RevenueBatchResultSerializer, 200: RevenueBatchResultSerializer},
        description="Record a batch (at most 2,000 rows) of state budget revenue collected by `office`, as the "
        "tax collection system sent it. Control officers and administrators of the office or of an office above "
        "it. All or nothing: a row with an error refuses the batch (400 `validation_error`, `fields.rows` keyed "
        "by the row's index). Idempotent per row: a `reference` already recorded with the same content is "
        "`existing` (nothing written again); with another content the batch is refused (409 "
        "`revenue_reference_conflict`, `fields.rows` names the rows). 201 when a row was created, 200 when "
        "every row was already there.",
    )
    def post(self, request: Request) -> Response:
        data = RevenueBatchInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        results = services.revenue_import(actor=request.user, office=v["office"], rows=v["rows"])
        created = sum(r.status == "created" for r in results)
        body = RevenueBatchResultSerializer({
            "office": v["office"], "created": created, "existing": len(results) - created, "rows": results,
        }).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

