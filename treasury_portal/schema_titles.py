"""The public API's schema stays as it was before the models had verbose names.

Model fields' verbose names are Vietnamese msgids (the admin and the forms show
them in the reader's language); DRF turns them into serializer labels and
drf-spectacular into `title`s, which would put Vietnamese into the English API
contract, change it with the request's language and wrap every enum `$ref` in an
`allOf`. The API documents its fields by name and description: their titles go.
"""

from typing import Any


def drop_field_titles(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: no `title` on the properties of component schemas."""
    for schema in result.get("components", {}).get("schemas", {}).values():
        for name, prop in list((schema.get("properties") or {}).items()):
            if not isinstance(prop, dict) or "title" not in prop:
                continue
            prop.pop("title")
            if list(prop) == ["allOf"] and len(prop["allOf"]) == 1:
                schema["properties"][name] = prop["allOf"][0]
    return result
