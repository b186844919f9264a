"""The API's query parameters, each declared once: the same object gives the
schema (an OpenApiParameter carrying its constraints: type, enum, pattern,
length, minimum) and reads the request, so the schema says exactly what the
views accept. A parameter that is present must be valid, an empty value
included: anything else is 400 `validation_error` with the contract's error
body, the parameter named in `fields`. Absent, it reads as None (no filter,
the default)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from treasury_portal.errors import ValidationFailed

# Free text filters (a username, a procedure code): at most this long, no control characters.
TEXT_MAX_LENGTH = 100
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]+$"
_INT_DIGITS = 9  # an id, a year, a page: never more (and int() of 5,000 digits raises)

# Booleans as the contract writes them (`?unread=1`) and as most clients do (`true`).
TRUE_VALUES = ("1", "true")
FALSE_VALUES = ("0", "false")


def _refuse(name: str, value: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={name: [value[:100]]})


@dataclass(frozen=True)
class QueryParam:
    """One query parameter: `kind` is "text", "int", "date", "bool" or "choice"
    (one of `choices`; with `many`, several joined by commas)."""

    name: str
    kind: str = "text"
    description: str = ""
    pattern: str | None = None
    choices: Sequence[str] = ()
    many: bool = False
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = TEXT_MAX_LENGTH

    # --- the schema --------------------------------------------------------------

    def json_schema(self) -> dict:
        if self.kind == "int":
            schema: dict[str, Any] = {"type": "integer"}
            if self.minimum is not None:
                schema["minimum"] = self.minimum
            schema["maximum"] = self.maximum if self.maximum is not None else 10**_INT_DIGITS - 1
            return schema
        if self.kind == "date":
            return {"type": "string", "format": "date"}
        if self.kind == "bool":
            return {"type": "string", "enum": [*TRUE_VALUES, *FALSE_VALUES]}
        if self.kind == "choice" and not self.many:
            return {"type": "string", "enum": list(self.choices)}
        if self.kind == "choice":
            one = "(" + "|".join(re.escape(c) for c in self.choices) + ")"
            return {"type": "string", "pattern": f"^{one}(,{one})*$"}
        return {
            "type": "string", "minLength": 1, "maxLength": self.max_length,
            "pattern": self.pattern or TEXT_PATTERN,
        }

    def schema(self) -> OpenApiParameter:
        return OpenApiParameter(self.name, self.json_schema(), description=self.description)

    # --- the request -------------------------------------------------------------

    def read(self, request: Request) -> Any:
        """The parameter's value (None when absent), or 400 validation_error."""
        raw = request.query_params.get(self.name)
        if raw is None:
            return None
        return getattr(self, f"_read_{self.kind}")(raw)

    def _read_text(self, raw: str) -> str:
        pattern = self.pattern or TEXT_PATTERN
        if not raw or len(raw) > self.max_length or not re.fullmatch(pattern, raw):
            raise _refuse(self.name, raw, _("Tham số %(name)s không hợp lệ.") % {"name": self.name})
        return raw

    def _read_int(self, raw: str) -> int:
        value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= _INT_DIGITS else None
        if (
            value is None
            or (self.minimum is not None and value < self.minimum)
            or (self.maximum is not None and value > self.maximum)
        ):
            raise _refuse(self.name, raw, _("Tham số %(name)s phải là số.") % {"name": self.name})
        return value

    def _read_date(self, raw: str) -> date:
        try:
            parsed = parse_date(raw) if len(raw) == 10 else None
        except ValueError:  # well formed but not a calendar day (2026-02-30)
            parsed = None
        if parsed is None:
            raise _refuse(self.name, raw, _("Tham số %(name)s phải là ngày YYYY-MM-DD.") % {"name": self.name})
        return parsed

    def _read_bool(self, raw: str) -> bool:
        if raw not in TRUE_VALUES + FALSE_VALUES:
            raise _refuse(self.name, raw, _("Tham số %(name)s không hợp lệ.") % {"name": self.name})
        return raw in TRUE_VALUES

    def _read_choice(self, raw: str) -> str:
        values = raw.split(",") if self.many else [raw]
        if not all(v in self.choices for v in values):
            raise _refuse(self.name, raw, _("Tham số %(name)s không hợp lệ.") % {"name": self.name})
        return raw


def text(
    name: str, description: str = "", *, pattern: str | None = None, max_length: int = TEXT_MAX_LENGTH
) -> QueryParam:
    return QueryParam(name, "text", description, pattern=pattern, max_length=max_length)


def integer(name: str, description: str = "", *, minimum: int | None = None, maximum: int | None = None) -> QueryParam:
    return QueryParam(name, "int", description, minimum=minimum, maximum=maximum)


def day(name: str, description: str = "") -> QueryParam:
    return QueryParam(name, "date", description)


def boolean(name: str, description: str = "") -> QueryParam:
    return QueryParam(name, "bool", description)


def choice(name: str, choices: Sequence[str], description: str = "", *, many: bool = False) -> QueryParam:
    return QueryParam(name, "choice", description, choices=tuple(choices), many=many)


# Shared by several lists.
UNIT_CODE_PATTERN = r"^[0-9]{7}$"
UNIT = text("unit", "Unit code (7 digits)", pattern=UNIT_CODE_PATTERN, max_length=7)
SUPPLIER = text("supplier", "Supplier code", pattern=r"^[0-9A-Za-z._\-]{1,20}$", max_length=20)
PAGE = integer("page", "Page number, from 1", minimum=1)
PAGE_SIZE = integer("page_size", "Rows per page (default 50; more than 200 gives 200)", minimum=1)
CURSOR = text(
    "cursor", "Opaque cursor of the next/previous link (the default paging: no count, every page as fast as the "
    "first)", pattern=r"^[np](~|-?[0-9]{1,16})\.[0-9]{1,12}$", max_length=32,
)
