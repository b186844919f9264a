"""Reading the CSV files administrators upload (allocations, deposits)."""

import csv
import io
from collections.abc import Sequence

from django.utils.translation import gettext as _

from treasury_portal.errors import ValidationFailed


def csv_rows(content: bytes | str, required: Sequence[str]) -> list[dict[str, str]]:
    """The rows of an uploaded CSV (UTF-8 with or without BOM; comma or
    semicolon) as dicts keyed by the lower-cased header, values stripped.
    A file that is not UTF-8, is empty or lacks a required column is refused
    with a sentence that names what is wrong."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationFailed(_("Tệp CSV phải được mã hóa UTF-8.")) from exc
    content = content.lstrip("\ufeff")
    if not content.strip():
        raise ValidationFailed(_("Tệp CSV trống."))
    first = content.splitlines()[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(content), delimiter=delimiter)
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise ValidationFailed(
            _("Tệp CSV thiếu cột: %(columns)s. Các cột bắt buộc: %(required)s.")
            % {"columns": ", ".join(missing), "required": ", ".join(required)}
        )
    reader.fieldnames = header
    return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
