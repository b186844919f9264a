"""The Django admin speaks the reader's language: every model and field of the
portal's apps has a verbose name (a Vietnamese msgid with its English), and the
API schema does not take those names as titles. The admin's pages themselves are
walked in both languages by tests/test_page_languages.py (tests/page_walk.py)."""

import pytest
from django.apps import apps
from django.utils import translation

from tests.language_check import VIETNAMESE_LETTERS

APPS = ("accounts", "payments", "vouchers")


def _models():  # noqa: ANN202
    return [m for m in apps.get_models() if m._meta.app_label in APPS]


def _names(model) -> list[tuple[str, object]]:  # noqa: ANN001
    opts = model._meta
    names = [(f"{model.__name__} (model)", opts.verbose_name), (f"{model.__name__} (plural)", opts.verbose_name_plural)]
    names += [(f"{model.__name__}.{f.name}", f.verbose_name) for f in opts.get_fields() if hasattr(f, "verbose_name")]
    names += [(f"{model.__name__}.{f.name} (help)", f.help_text) for f in opts.get_fields()
              if getattr(f, "help_text", "")]
    return names


def test_every_model_and_field_has_a_name_in_each_language():
    from django.contrib.auth.models import AbstractUser

    djangos = {f.name for f in AbstractUser._meta.fields}  # named by Django, in its catalogues
    untranslated, default = [], []
    for model in _models():
        opts = model._meta
        if opts.verbose_name == model.__name__.lower() or not opts.verbose_name:
            default.append(model.__name__)
        for where, name in _names(model):
            with translation.override("en"):
                if VIETNAMESE_LETTERS.search(str(name)):
                    untranslated.append(f"{where}: {name}")
        for field in opts.get_fields():
            if field.concrete and not field.auto_created and field.name not in djangos and (
                field.verbose_name == field.name.replace("_", " ")
            ):
                default.append(f"{model.__name__}.{field.name}")
    assert default == [], f"no verbose name: {default}"
    assert untranslated == [], f"no English in locale/en: {untranslated}"


def test_a_plural_name_is_plural_in_english():
    from vouchers.models import Voucher

    with translation.override("en"):
        assert (str(Voucher._meta.verbose_name), str(Voucher._meta.verbose_name_plural)) == ("voucher", "vouchers")
    with translation.override("vi"):
        assert str(Voucher._meta.verbose_name_plural) == "chứng từ"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_api_schema_has_no_field_titles(lang):
    """Verbose names became serializer labels and so schema titles (Vietnamese in
    the English contract, enums wrapped in allOf): the schema hook drops them."""
    from drf_spectacular.generators import SchemaGenerator

    with translation.override(lang):
        schema = SchemaGenerator().get_schema(request=None, public=True)
    titled = [
        f"{name}.{prop_name}"
        for name, component in schema["components"]["schemas"].items()
        for prop_name, prop in (component.get("properties") or {}).items()
        if isinstance(prop, dict) and ("title" in prop or list(prop) == ["allOf"])
    ]
    assert titled == []


def test_an_allocation_reads_in_the_readers_language():
    """The ledger writes an allocation's description in Vietnamese (the official
    documents are); the admin and the statement show it in the reader's language."""
    from payments.models import ALLOCATION_DESCRIPTION, Transfer, TransferKind

    description = ALLOCATION_DESCRIPTION % {"year": 2026, "line": "422.073.6001.13.00000.2"}
    transfer = Transfer(kind=TransferKind.ALLOCATION, description=description)
    assert transfer.description == "Giao dự toán 2026 422.073.6001.13.00000.2"
    with translation.override("en"):
        assert transfer.description_text == "Budget allocation 2026 422.073.6001.13.00000.2"
    with translation.override("vi"):
        assert transfer.description_text == transfer.description
