"""Reading the files people upload: CSV (allocations, deposits, supplier
statements) and XLSX (supplier statements)."""

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


def _header(values: Sequence[object]) -> list[str]:
    return [str(v if v is not None else "").strip().lower() for v in values]


def xlsx_rows(content: bytes, required: Sequence[str]) -> list[dict[str, object]]:
    """The rows of the first sheet of an uploaded XLSX workbook as dicts keyed by
    the lower-cased header (the first non-empty row). Cells keep their type
    (numbers, dates as naive datetimes, text stripped); empty rows are skipped.
    A file that is not a workbook or lacks a required column is refused."""
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ValidationFailed(_("Tệp không phải bảng tính Excel (.xlsx) hợp lệ.")) from exc
    try:
        values = workbook.worksheets[0].iter_rows(values_only=True) if workbook.worksheets else iter(())
        header: list[str] | None = None
        rows: list[dict[str, object]] = []
        for raw in values:
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in raw):
                continue
            if header is None:
                header = _header(raw)
                continue
            rows.append({
                h: (v.strip() if isinstance(v, str) else v)
                for h, v in zip(header, raw, strict=False) if h
            })
    finally:
        workbook.close()
    if header is None:
        raise ValidationFailed(_("Bảng tính trống."))
    missing = [c for c in required if c not in header]
    if missing:
        raise ValidationFailed(
            _("Bảng tính thiếu cột: %(columns)s. Các cột bắt buộc: %(required)s.")
            % {"columns": ", ".join(missing), "required": ", ".join(required)}
        )
    return rows


def upload_rows(
    content: bytes, filename: str, required: Sequence[str], *, max_rows: int
) -> list[dict[str, object]]:
    """The rows of an uploaded CSV or XLSX (told apart by the file's content: an
    XLSX is a ZIP), at most `max_rows` of them: a longer file is refused whole
    with a sentence that says the limit and how many rows it has."""
    if content[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        rows: list[dict[str, object]] = list(xlsx_rows(content, required))
    else:
        rows = list(csv_rows(content, required))
    if len(rows) > max_rows:
        raise ValidationFailed(
            _("Tệp có %(count)s dòng, vượt quá giới hạn %(max)s dòng mỗi lần tải lên: hãy chia thành nhiều tệp.")
            % {"count": len(rows), "max": max_rows}
        )
    return rows
