"""The API's shared machinery: one exception handler that gives every error the
contract's body, pagination, and the base view that makes any POST idempotent
when it carries an Idempotency-Key header."""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.db import transaction
from django.db.models import F, OrderBy, Q
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from treasury_portal.errors import ApplicationError
from treasury_portal.query import CURSOR, PAGE, PAGE_SIZE

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "malformed_json",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.Throttled: "throttled",
}


def error_response(code: str, detail: str, http_status: int, fields: dict | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "detail": detail}
    if fields:
        body["fields"] = fields
    return Response(body, status=http_status)


def _suspicious_request_error(exc: SuspiciousOperation) -> tuple[str, str, int]:
    """The code, sentence and status of a request Django refused to read."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        return "request_too_large", _("Nội dung gửi lên quá lớn (tối đa %(mb)s MB).") % {"mb": limit}, 413
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return "too_many_fields", _("Yêu cầu có quá nhiều trường hoặc tệp."), 400
    return "bad_request", _("Yêu cầu không hợp lệ."), 400


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every error leaves as {"code", "detail", "fields"?}."""
    if isinstance(exc, SuspiciousOperation):
        return error_response(*_suspicious_request_error(exc))
    if isinstance(exc, ApplicationError):
        return error_response(exc.code, exc.message, exc.http_status, exc.fields or None)
    if isinstance(exc, Http404):
        return error_response("not_found", _("Không tìm thấy."), 404)
    if isinstance(exc, DjangoPermissionDenied):
        return error_response("permission_denied", _("Bạn không có quyền thực hiện thao tác này."), 403)
    if isinstance(exc, exceptions.APIException):
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
        if getattr(exc.detail, "code", None) == "mfa_required":
            code = "mfa_required"
        if isinstance(exc, exceptions.ValidationError):
            fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            return error_response(code, _("Dữ liệu gửi lên không hợp lệ."), 400, fields)
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response = error_response(code, str(exc.detail), 401)
            response["WWW-Authenticate"] = 'Bearer realm="api"'
            return response
        if isinstance(exc, exceptions.ParseError):
            return error_response(code, _("Nội dung gửi lên không phải JSON hợp lệ."), 400)
        response = error_response(code, str(exc.detail), exc.status_code)
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(int(exc.wait))
        return response
    return None


class PortalPagination(PageNumberPagination):
    """Numbered pages. `?page=` and `?page_size=` are checked like every query
    parameter (400 validation_error, not a silent default); a page_size over
    200 gives 200 rows; a page past the last is 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        size = PAGE_SIZE.read(request)
        return self.page_size if size is None else min(size, self.max_page_size)

    def get_page_number(self, request: Request, paginator: Any) -> int:
        number = PAGE.read(request)
        return 1 if number is None else number


# The cursor's format (see KeysetPagination._decode); CURSOR, its query
# parameter, carries the same pattern into the schema.
CURSOR_FORMAT = re.compile(r"([np])(~|-?[0-9]{1,16})\.([0-9]{1,12})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INTEGER_FIELDS = {"IntegerField", "BigIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
                   "SmallIntegerField", "PositiveSmallIntegerField", "AutoField", "BigAutoField"}


def _order_name(term: Any) -> str:
    """`"field"`/`"-field"` of an ordering term, an expression like
    `F("due_at").asc(nulls_last=True)` included."""
    if isinstance(term, OrderBy) and isinstance(term.expression, F):
        return ("-" if term.descending else "") + term.expression.name
    return str(term)


class KeysetPagination:
    """`?cursor=` pages, the default of the big lists (vouchers, review queue):
    the rows after the last row of the page before, in the queryset's own
    ordering — `(created_at, id)` descending or `(due_at, id)` ascending — read
    straight off an index that matches it. No COUNT(*) over the filtered set and
    no OFFSET, so the 1,000th page costs what the first does. A request with
    `?page=` gets the numbered pages of `PortalPagination` (with `count`) instead:
    api-contract.md allows both.

    The body is `{"next", "previous", "results"}`; `next`/`previous` are links
    carrying an opaque cursor (null at either end)."""

    page_size = PortalPagination.page_size
    max_page_size = PortalPagination.max_page_size
    cursor_query_param = "cursor"

    def __init__(self, queryset: Any) -> None:
        order = [_order_name(f) for f in queryset.query.order_by]
        fields = [f.lstrip("-") for f in order]
        descending = {f.startswith("-") for f in order}
        if len(order) != 2 or fields[1] not in ("id", "pk") or len(descending) != 1:
            raise ValueError(f"keyset pagination needs an ordering (field, id) in one direction, not {order}")
        self.queryset = queryset
        self.field = fields[0]
        self.descending = descending.pop()
        model_field = queryset.model._meta.get_field(self.field)
        self.nullable = model_field.null
        self.is_datetime = model_field.get_internal_type() == "DateTimeField"
        if not self.is_datetime and model_field.get_internal_type() not in _INTEGER_FIELDS:
            raise ValueError(f"keyset pagination orders by a time or an integer, not {self.field}")

    def page_size_of(self, request: Request) -> int:
        size = PAGE_SIZE.read(request)
        return self.page_size if size is None else min(size, self.max_page_size)

    def _decode(self, raw: str) -> tuple[Any, int, bool]:
        """`n`/`p` (next/previous), the ordering value (µs since the epoch for
        a time, the number for an integer, `~` for NULL), `.`, the id: every
        string of CURSOR's pattern decodes (the schema says which are valid)."""
        match = CURSOR_FORMAT.fullmatch(raw)
        if match is None:
            raise ApplicationError("validation_error", _("Tham số cursor không hợp lệ."), status=400)
        direction, text, pk = match.groups()
        value: Any = None if text == "~" else int(text)
        if value is not None and self.is_datetime:
            value = _EPOCH + timedelta(microseconds=value)
        return value, int(pk), direction == "p"

    def _encode(self, row: Any, *, backwards: bool) -> str:
        value = row[self.field] if isinstance(row, dict) else getattr(row, self.field)
        pk = row["id"] if isinstance(row, dict) else row.pk
        if value is None:
            text = "~"
        elif self.is_datetime:
            text = str((value - _EPOCH) // timedelta(microseconds=1))
        else:
            text = str(int(value))
        return f"{'p' if backwards else 'n'}{text}.{pk}"

    def ordering(self, *, backwards: bool = False) -> list[Any]:
        """The walk's ORDER BY with NULLs placed explicitly where `_after` expects
        them (PostgreSQL's defaults: last ascending, first descending — the order
        of the btree indexes, so the plans do not change); SQLite, the embedded
        default, would otherwise put them first ascending and page them twice."""
        desc = self.descending != backwards
        field = F(self.field).desc(nulls_first=True) if desc else F(self.field).asc(nulls_last=True)
        return [field, F("pk").desc() if desc else F("pk").asc()]

    def _after(self, value: Any, pk: int, *, descending: bool) -> Any:
        """Rows strictly after (value, pk) in an order where NULLs come last when
        ascending and first when descending (PostgreSQL's defaults)."""
        f = self.field
        if value is None:
            q = Q(**{f"{f}__isnull": True, "pk__lt" if descending else "pk__gt": pk})
            return q | Q(**{f"{f}__isnull": False}) if descending else q
        lookup = TupleLessThan if descending else TupleGreaterThan
        q = Q(lookup(Tuple(F(f), F("pk")), (value, pk)))
        if self.nullable and not descending:
            q |= Q(**{f"{f}__isnull": True})
        return q

    def paginate(self, request: Request) -> tuple[list, dict]:
        """The page's rows (as the queryset yields them) and the links."""
        window, state = self.window(request)
        return self.finish(request, list(window), state)

    def cursor(self, request: Request) -> tuple[tuple[int, str, bool], tuple[Any, int] | None]:
        """What the request asks for: the state `finish` takes (page size, raw
        cursor, walking backwards) and the (value, id) the walk starts after.
        For a caller that reads the window itself (vouchers.selectors.review_queue_rows)."""
        size = self.page_size_of(request)
        raw = CURSOR.read(request) or ""
        if not raw:
            return (size, raw, False), None
        value, pk, backwards = self._decode(raw)
        return (size, raw, backwards), (value, pk)

    def window(self, request: Request) -> tuple[Any, tuple[int, str, bool]]:
        """The page's rows as a lazy queryset, one more than the page in walk
        order (a caller may read them through another query: `finish`
        then takes rows carrying the ordering field and id)."""
        state, after = self.cursor(request)
        size, _raw, backwards = state
        qs = self.queryset
        if after is not None:
            # A "previous" cursor walks the reversed ordering, then flips the page.
            qs = qs.filter(self._after(*after, descending=self.descending != backwards))
        return qs.order_by(*self.ordering(backwards=backwards))[: size + 1], state

    def finish(self, request: Request, rows: list, state: tuple[int, str, bool]) -> tuple[list, dict]:
        """The page (the window's rows, in walk order) and its links."""
        size, raw, backwards = state
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        has_next, has_previous = (True, more) if backwards else (more, bool(raw))
        url = remove_query_param(request.build_absolute_uri(), "page")
        links = {
            "next": replace_query_param(url, self.cursor_query_param, self._encode(rows[-1], backwards=False))
            if rows and has_next else None,
            "previous": replace_query_param(url, self.cursor_query_param, self._encode(rows[0], backwards=True))
            if rows and has_previous else None,
        }
        return rows, links


def _request_fingerprint(request: Request) -> str:
    raw = request._request.body  # read before DRF parses it; Django keeps a copy
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + raw).hexdigest()


class PortalAPIView(APIView):
    """Base of every API view. A POST with an Idempotency-Key runs at most once
    per user and key: a repeat with the same body replays the first response; the
    same key with another body is 409 idempotency_conflict. Concurrent repeats
    wait on the record's row lock, then replay."""

    def dispatch(self, request, *args, **kwargs):  # noqa: ANN001, ANN201 - Django's signature
        if request.method == "POST" and request.headers.get("Idempotency-Key"):
            try:
                request.body  # noqa: B018 - keep the raw body for hashing before DRF parses it
            except Exception:  # noqa: BLE001, S110 - an oversized body is reported by the parser
                pass
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Django refuses an oversized body only when it reads it whole (a form,
        # request.body); DRF's JSON parser streams it. One limit for every body:
        _refuse_oversized_body(request)
        # Runs after authentication and permission checks, before DRF looks up
        # the handler: an instance attribute shadows the class's `post`.
        super().initial(request, *args, **kwargs)
        key = request.headers.get("Idempotency-Key")
        if request.method == "POST" and key and request.user.is_authenticated:
            original = type(self).post.__get__(self)  # type: ignore[attr-defined]

            def post(req: Request, *a: Any, **kw: Any) -> Response:
                return self._run_idempotent(req, key, lambda: original(req, *a, **kw))

            self.post = post  # type: ignore[method-assign]

    def _run_idempotent(self, request: Request, key: str, handler: Callable[[], Response]) -> Response:
        from django.apps import apps

        IdempotencyRecord = apps.get_model(settings.PORTAL_IDEMPOTENCY_MODEL)  # noqa: N806 - a model class

        if len(key) > 255:
            raise ApplicationError("validation_error", _("Idempotency-Key dài quá 255 ký tự."), status=400)
        fingerprint = _request_fingerprint(request)
        with transaction.atomic():
            # One statement either way (_claim_idempotency_record): a new key
            # inserts the row, which is ours until the commit (a concurrent
            # repeat's statement waits on it); a key already used comes back
            # locked, with its first answer, and is replayed.
            record = IdempotencyRecord(
                user=request.user, key=key, method=request.method, path=request.path[:500],
                request_hash=fingerprint, created_at=timezone.now(),
            )
            fresh = _claim_idempotency_record(record)
            expired = False
            if not fresh:
                expired = record.created_at < timezone.now() - settings.IDEMPOTENCY_KEY_TTL
                if record.request_hash != fingerprint and not expired:
                    raise ApplicationError(
                        "idempotency_conflict", _("Khóa Idempotency-Key này đã được dùng cho một yêu cầu khác.")
                    )
                if record.response_status is not None and not expired:
                    replay = Response(record.response_body, status=record.response_status)
                    replay["Idempotent-Replayed"] = "true"
                    return replay
            try:
                with transaction.atomic():
                    response = handler()
            except Exception as exc:  # noqa: BLE001 - turned into its error response and stored
                response = self.handle_exception(exc)
            if response.status_code < 500:
                record.request_hash = fingerprint
                record.response_status = response.status_code
                record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
                if expired:
                    record.created_at = timezone.now()
                record.save(update_fields=["request_hash", "response_status", "response_body", "created_at"])
            return response


def _refuse_oversized_body(request: Request) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and length > limit:
        raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")


def _claim_idempotency_record(record: Any) -> bool:
    """The user's record of this key in one statement, `INSERT … ON CONFLICT
    (user_id, key) DO UPDATE … RETURNING`: True when it was inserted now (the
    record gets its id); False when the key was used before — the existing row
    is then locked (the no-op update takes its row lock, as SELECT … FOR UPDATE
    would, waiting for a concurrent first request to commit) and `record` gets
    its committed columns, so a repeat is answered without a second query.
    `xmax = 0` holds for a row this statement inserted (PostgreSQL's row
    header); other databases insert, then lock and read."""
    from django.db import connection

    model = type(record)  # settings.PORTAL_IDEMPOTENCY_MODEL (treasury_portal never imports accounts)
    table = connection.ops.quote_name(model._meta.db_table)
    values = [record.user_id, record.key, record.method, record.path, record.request_hash, record.created_at]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} AS r (user_id, key, method, path, request_hash, created_at) "  # noqa: S608 - the model's own table
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, key) DO UPDATE SET key = r.key "
                "RETURNING r.id, (r.xmax = 0), r.request_hash, r.response_status, r.response_body, r.created_at",
                values,
            )
            pk, fresh, request_hash, response_status, response_body, created_at = cursor.fetchone()
            record.pk = pk
            if not fresh:
                field = model._meta.get_field("response_body")
                record.request_hash, record.response_status = request_hash, response_status
                record.created_at = created_at
                record.response_body = field.from_db_value(response_body, None, connection)
                record._state.adding = False
            return bool(fresh)
        cursor.execute(
            f"INSERT INTO {table} (user_id, key, method, path, request_hash, created_at) "  # noqa: S608 - the model's own table
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            values,
        )
        row = cursor.fetchone()
    if row:
        record.pk = row[0]
        return True
    existing = model.objects.select_for_update().get(user_id=record.user_id, key=record.key)
    record.__dict__.update({k: v for k, v in existing.__dict__.items() if k != "_state"})
    record._state.adding = False
    return False


def created(data: Any) -> Response:
    return Response(data, status=status.HTTP_201_CREATED)


def api_path(route: str, view: Any, name: str) -> list:
    """Both `route` and `route/`: the contract makes the trailing slash optional.
    The schema lists only the slash-less form (see drop_slash_duplicates)."""
    from django.urls import path

    return [path(route, view, name=name), path(route + "/", view)]


def drop_slash_duplicates(endpoints: list, **kwargs: Any) -> list:
    """drf-spectacular preprocessing hook: one schema entry per API path."""
    paths = {p for p, *_rest in endpoints}
    return [e for e in endpoints if not (e[0].endswith("/") and e[0].rstrip("/") in paths)]


# --- the OpenAPI schema ----------------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error: a machine code (api-contract.md), a sentence, and per-field messages.",
    "properties": {
        "code": {"type": "string", "example": "validation_error"},
        "detail": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": True},
    },
    "required": ["code", "detail"],
}
_ERRORS = {
    "400": "validation_error, malformed_json",
    "401": "not_authenticated",
    "403": "permission_denied, mfa_required",
    "404": "not_found (also another organisation's object)",
}
IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Run this POST at most once per user and key: a repeat with the same body replays the "
    "first response; the same key with another body is 409 idempotency_conflict.",
}
_UNSAFE_ERRORS = {
    "409": "a business rule refused it (invalid_transition, idempotency_conflict, …)",
    "413": "request_too_large (the body is over the upload limit)",
    "415": "unsupported_media_type",
}


def document_error_responses(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: the error body of api-contract.md on
    every operation (the one exception handler gives every error this shape),
    and the Idempotency-Key header on every POST (PortalAPIView honours it)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            errors = dict(_ERRORS)
            if method != "get":
                errors.update(_UNSAFE_ERRORS)
            if method == "post":
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                    parameters.append(IDEMPOTENCY_KEY_PARAMETER)
            responses = operation.setdefault("responses", {})
            for status_code, codes in errors.items():
                responses.setdefault(status_code, {"description": f"Error: {codes}.", "content": body})
    return result


def lib_doc_excludes() -> list:
    """Classes whose docstrings never describe an endpoint (drf-spectacular)."""
    from drf_spectacular.plumbing import get_lib_doc_excludes

    return [*get_lib_doc_excludes(), PortalAPIView]


# The query parameters of a numbered page (PortalPagination), for the schema:
# `@extend_schema(parameters=[..., *NUMBERED_PAGE_PARAMETERS])`.
NUMBERED_PAGE_PARAMETERS = [PAGE.schema(), PAGE_SIZE.schema()]


def paginated(serializer_class: type) -> type:
    """The schema of a page of `serializer_class` rows, as PortalPagination or
    KeysetPagination returns it: `@extend_schema(responses=paginated(FooSerializer))`."""
    from rest_framework import serializers

    name = serializer_class.__name__.removesuffix("Serializer")
    cached = _PAGINATED.get(serializer_class)
    if cached is None:
        cached = type(
            f"Paginated{name}ListSerializer",
            (serializers.Serializer,),
            {
                "count": serializers.IntegerField(
                    required=False,
                    help_text="Rows in the whole list: only on numbered pages (?page=). Lists paged by cursor "
                    "(the default of vouchers and the review queue) leave it out: counting a million rows "
                    "costs more than the page.",
                ),
                "next": serializers.URLField(allow_null=True, help_text="The next page (null on the last)."),
                "previous": serializers.URLField(allow_null=True, help_text="The page before (null on the first)."),
                "results": serializer_class(many=True),
                "__doc__": f"A page of {name} rows, in the list's order.",
            },
        )
        _PAGINATED[serializer_class] = cached
    return cached


_PAGINATED: dict[type, type] = {}


# --- errors raised before any API view runs (URL not matched, crash) -----------------


def _json_error(code: str, detail: str, http_status: int):  # noqa: ANN202
    from django.http import JsonResponse

    return JsonResponse({"code": code, "detail": detail}, status=http_status)


def handler404(request, exception=None):  # noqa: ANN001, ANN201 - Django's handler signature
    """/api/… answers JSON even when no route matched (e.g. /api/v1/vouchers/abc)."""
    if request.path.startswith("/api/"):
        return _json_error("not_found", _("Không tìm thấy."), 404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler400(request, exception=None):  # noqa: ANN001, ANN201
    """A request refused before any API view ran (a host not allowed, a body too
    big for a middleware that read it) answers JSON under /api/ too."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        code, detail, http_status = (
            _suspicious_request_error(exception)
            if isinstance(exception, SuspiciousOperation)
            else ("bad_request", _("Yêu cầu không hợp lệ."), 400)
        )
        return JsonResponse({"code": code, "detail": detail}, status=http_status)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler403(request, exception=None):  # noqa: ANN001, ANN201
    if request.path.startswith("/api/"):
        return _json_error("permission_denied", _("Bạn không có quyền thực hiện thao tác này."), 403)
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def handler500(request):  # noqa: ANN001, ANN201
    if request.path.startswith("/api/"):
        return _json_error("server_error", _("Lỗi hệ thống. Vui lòng thử lại sau."), 500)
    from django.views.defaults import server_error

    return server_error(request)
