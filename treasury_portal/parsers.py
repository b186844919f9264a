"""The API's JSON parser (DEFAULT_PARSER_CLASSES). Its own module: treasury_portal.api
imports DRF's APIView, which reads DEFAULT_PARSER_CLASSES as it is defined."""

import html
from typing import Any

from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import DataAndFiles, JSONParser, MultiPartParser, get_encoding

from treasury_portal.errors import ApplicationError


class PortalJSONParser(JSONParser):
    """DRF's JSON parser, but a body nested too deep for Python's parser (e.g.
    100,000 `[`: RecursionError) is malformed JSON like any other, not a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("Nội dung JSON lồng nhau quá sâu.")) from None


class RawNameMultiPartParser(DjangoMultiPartParser):
    """Django's multipart parser, which also keeps each upload's file name as it
    was sent (HTML entities decoded), as `upload.raw_name`.

    Django strips a path (`../x.pdf` → `x.pdf`) and control characters from the
    name silently, and drops a part named `..`; the portal refuses such a name
    with a clear sentence instead (vouchers.services attachment names). Files
    are still stored under their hash, never under either name."""

    _raw_file_name = ""

    def sanitize_file_name(self, file_name: str) -> str | None:
        self._raw_file_name = html.unescape(file_name)
        clean = super().sanitize_file_name(file_name)
        if clean is None and file_name.strip():
            return "upload"  # kept, so that its raw name is refused rather than the file ignored
        return clean

    def handle_file_complete(self, old_field_name: str, counters: list) -> None:
        super().handle_file_complete(old_field_name, counters)
        uploads = self._files.getlist(force_str(old_field_name, self._encoding, errors="replace"))
        if uploads:
            uploads[-1].raw_name = self._raw_file_name


class PortalMultiPartParser(MultiPartParser):
    """DRF's multipart parser on RawNameMultiPartParser."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        parser_context = parser_context or {}
        request = parser_context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            parser = RawNameMultiPartParser(meta, stream, request.upload_handlers, get_encoding(parser_context))
            data, files = parser.parse()
        except MultiPartParserError as exc:
            raise ApplicationError(
                "malformed_multipart", _("Dữ liệu multipart/form-data không hợp lệ."), status=400
            ) from exc
        return DataAndFiles(data, files)


class RawUploadNamesMiddleware:
    """Pages parse their forms with RawNameMultiPartParser too (before CSRF's
    check reads request.POST)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        request.multipart_parser_class = RawNameMultiPartParser
        return self.get_response(request)
