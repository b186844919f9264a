"""The OpenAPI schema's generator (DEFAULT_SCHEMA_CLASS): drf-spectacular's,
plus the constraints of request fields it leaves out, so that the schema says
no more is valid than the serializers accept (schemathesis'
positive_data_acceptance check in tests/test_schema_fuzz.py holds it to that).

- A nested serializer list (`LineInSerializer(many=True, allow_empty=False,
  max_length=100)`): minItems / maxItems.
- A text field: DRF refuses a NUL character in any CharField, and a field that
  may not be blank is refused when it is only whitespace (it trims, then finds it
  empty): a `pattern` says so. A field with a pattern of its own (RegexField)
  does not trim (trim_whitespace=False in the serializers), so its pattern is
  the whole truth."""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import is_list_serializer
from rest_framework import serializers

NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"


class PortalAutoSchema(AutoSchema):
    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or not isinstance(schema, dict):
            return schema
        if is_list_serializer(field) and schema.get("type") == "array":
            least = max(field.min_length or 0, 0 if field.allow_empty else 1)
            if least:
                schema["minItems"] = least
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        return schema

    def _insert_field_validators(self, field: Any, schema: dict) -> None:
        super()._insert_field_validators(field, schema)  # a RegexField's own pattern first
        if (
            isinstance(field, serializers.CharField)
            and schema.get("type") == "string"
            and not {"pattern", "format", "enum"} & schema.keys()
        ):
            schema["pattern"] = NOT_BLANK if field.trim_whitespace and not field.allow_blank else NO_NUL
