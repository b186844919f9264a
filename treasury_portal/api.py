"""The API's shared machinery: one exception handler that gives every error the
contract's body, pagination, and the base view that makes any POST idempotent
when it carries an Idempotency-Key header."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from treasury_portal.errors import ApplicationError

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "validation_error",
    exceptions.UnsupportedMediaType: "validation_error",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.Throttled: "throttled",
}


def error_response(code: str, detail: str, http_status: int, fields: dict | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "detail": detail}
    if fields:
        body["fields"] = fields
    return Response(body, status=http_status)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every error leaves as {"code", "detail", "fields"?}."""
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
        return error_response(code, str(exc.detail), exc.status_code)
    return None


class PortalPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


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
        from accounts.models import IdempotencyRecord

        if len(key) > 255:
            raise ApplicationError("validation_error", _("Idempotency-Key dài quá 255 ký tự."), status=400)
        fingerprint = _request_fingerprint(request)
        # Insert the record outside the main transaction so concurrent repeats
        # find it and queue on its lock instead of failing on the unique key.
        IdempotencyRecord.objects.bulk_create(
            [
                IdempotencyRecord(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.path[:500],
                    request_hash=fingerprint,
                )
            ],
            ignore_conflicts=True,
        )
        with transaction.atomic():
            record = IdempotencyRecord.objects.select_for_update().get(user=request.user, key=key)
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
    "400": "validation_error",
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
    "415": "validation_error (unsupported media type)",
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


def paginated(serializer_class: type) -> type:
    """The schema of a page of `serializer_class` rows, as PortalPagination
    returns it: `@extend_schema(responses=paginated(FooSerializer))`."""
    from rest_framework import serializers

    name = serializer_class.__name__.removesuffix("Serializer")
    cached = _PAGINATED.get(serializer_class)
    if cached is None:
        cached = type(
            f"Paginated{name}ListSerializer",
            (serializers.Serializer,),
            {
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": serializer_class(many=True),
                "__doc__": f"A page of {name} rows, newest first.",
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


def handler500(request):  # noqa: ANN001, ANN201
    if request.path.startswith("/api/"):
        return _json_error("server_error", _("Lỗi hệ thống. Vui lòng thử lại sau."), 500)
    from django.views.defaults import server_error

    return server_error(request)
