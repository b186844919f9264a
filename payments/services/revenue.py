"""Writes of the state budget revenue (payments.models_revenue.RevenueCollection):
a batch of collections, as the treasury office receives them from the tax
collection system, through the API (`POST /api/v1/revenue-collections`) or an
uploaded CSV/XLSX (the page /payments/revenue/upload/, read by
payments.services.csv_upload.upload_rows).

- Who: a control officer or administrator of the collecting office or of an
  office above it (`IMPORT_ROLES`); an office outside the user's scope is a 404.
- A batch is all or nothing: every row is checked first (the classification
  with the budget lines' own formats: payments.services.budget._FORMATS) and
  nothing is written unless every row is valid; the refusal names each row
  (`fields["rows"][index][field]`).
- Idempotent per row: the sending system's reference is unique per office
  (the DB constraint `revenue_collection_reference_unique` is the backstop).
  A reference already recorded with the same content is reported `existing`
  and not written again; with another content the whole batch is refused
  (409 `revenue_reference_conflict`, the rows named). Concurrent batches with
  the same references: INSERT … ON CONFLICT DO NOTHING waits for the other
  transaction, then the rows are read again and compared.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, OrgKind, Role, User
from accounts.selectors import user_has_treasury_role_over, visible_offices
from payments.models import BudgetLevel, RevenueCollection, RevenueSource
from payments.models_revenue import MAX_REVENUE_AMOUNT
from payments.services.budget import _FORMAT_HINTS, _FORMATS
from treasury_portal.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed

# Who records revenue: the office's accounting staff (control officers) and its administrators.
IMPORT_ROLES = frozenset({Role.CONTROL_OFFICER, Role.ADMINISTRATOR})
MAX_BATCH_ROWS = 2000
# The columns of a row (the API's and the file's).
REVENUE_COLUMNS = ("reference", "collected_on", "budget_level", "chapter", "ndkt", "source", "amount")
OPTIONAL_COLUMNS = ("payer_name",)
REFERENCE_PATTERN = re.compile(r"[0-9A-Za-z._/:-]{1,64}")
# What makes two rows with one reference "the same content".
CONTENT_FIELDS = ("collected_on", "budget_level", "chapter", "ndkt", "source", "amount", "payer_name")
_CLASSIFICATION = ("budget_level", "chapter", "ndkt")


@dataclass(frozen=True)
class RevenueRowResult:
    index: int
    reference: str
    status: str  # "created" or "existing"
    collection: RevenueCollection


def can_import_revenue(user: User, office: Organisation | None = None) -> bool:
    if not user.is_authenticated:
        return False
    if office is None:
        return bool(importable_offices(user))
    return user_has_treasury_role_over(user, office, *IMPORT_ROLES)


def importable_offices(user: User) -> list[Organisation]:
    """The offices whose revenue the user may record: those where the user is a
    control officer or administrator, and the offices below them."""
    from accounts.selectors import offices_in_scope

    ids = offices_in_scope(user, roles=set(IMPORT_ROLES))
    return list(Organisation.objects.filter(pk__in=ids, is_active=True).order_by("path", "code"))


def _office(actor: User, office: Organisation | str) -> Organisation:
    if isinstance(office, str):
        found = visible_offices(actor).filter(code=office).first()
        if found is None:
            raise NotFound()
        office = found
    elif office.kind != OrgKind.TREASURY_OFFICE or not visible_offices(actor).filter(pk=office.pk).exists():
        raise NotFound()
    if not user_has_treasury_role_over(actor, office, *IMPORT_ROLES):
        raise PermissionDenied(_("Chỉ cán bộ kiểm soát hoặc quản trị của kho bạc mới được nhập số thu ngân sách."))
    return office


# --- one row ---------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A cell or a JSON value as text: a spreadsheet number as its digits."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool):
        return str(value)
    return str(value).strip()


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _amount(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = _text(value).replace(".", "").replace(",", "").replace(" ", "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 16 else None


def clean_row(row: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A row's values as the model stores them, and its errors by field."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    reference = _text(row.get("reference"))
    if not REFERENCE_PATTERN.fullmatch(reference):
        errors["reference"] = [_("Số tham chiếu gồm 1–64 ký tự chữ, số hoặc . _ / : -.")]
    values["reference"] = reference
    day = _day(row.get("collected_on"))
    if day is None or not 2000 <= day.year <= 2100:
        errors["collected_on"] = [_("Ngày thu có dạng YYYY-MM-DD.")]
    values["collected_on"] = day
    for name in _CLASSIFICATION:
        value = _text(row.get(name))
        if not _FORMATS[name].fullmatch(value):
            errors[name] = [_("Phải gồm %(hint)s.") % {"hint": _FORMAT_HINTS[name]}]
        values[name] = value
    source = _text(row.get("source")).lower()
    if source not in RevenueSource.values:
        errors["source"] = [_("Loại thu là một trong: %(values)s.") % {"values": ", ".join(RevenueSource.values)}]
    values["source"] = source
    amount = _amount(row.get("amount"))
    if amount is None or not 0 < amount <= MAX_REVENUE_AMOUNT:
        errors["amount"] = [_("Số tiền là số nguyên đồng, lớn hơn 0.")]
    values["amount"] = amount
    payer = _text(row.get("payer_name"))
    if len(payer) > 255:
        errors["payer_name"] = [_("Tên người nộp tối đa 255 ký tự.")]
    values["payer_name"] = payer
    return values, errors


def _content(values: Mapping[str, Any]) -> tuple:
    return tuple(values[f] for f in CONTENT_FIELDS)


def _row_content(row: RevenueCollection) -> tuple:
    return tuple(getattr(row, f) for f in CONTENT_FIELDS)


# --- the batch -------------------------------------------------------------------------------


def revenue_import(
    *, actor: User, office: Organisation | str, rows: Sequence[Mapping[str, Any]]
) -> list[RevenueRowResult]:
    """Record a batch of collections of `office` (see the module's docstring).
    Returns one result per row, in the batch's order."""
    office = _office(actor, office)
    rows = list(rows)
    if not rows:
        raise ValidationFailed(_("Lô không có dòng nào."), fields={"rows": [_("Cần ít nhất một dòng.")]})
    if len(rows) > MAX_BATCH_ROWS:
        raise ValidationFailed(
            _("Lô có %(count)s dòng, vượt quá giới hạn %(max)s dòng.") % {"count": len(rows), "max": MAX_BATCH_ROWS},
            fields={"rows": [_("Tối đa %(max)s dòng.") % {"max": MAX_BATCH_ROWS}]},
        )
    cleaned: list[dict[str, Any]] = []
    errors: dict[str, dict[str, list[str]]] = {}
    first_of: dict[str, int] = {}
    for index, row in enumerate(rows):
        values, problems = clean_row(row if isinstance(row, Mapping) else {})
        ref = values["reference"]
        if not problems and ref in first_of and _content(cleaned[first_of[ref]]) != _content(values):
            problems["reference"] = [
                _("Số tham chiếu %(ref)s trùng với dòng %(other)s nhưng khác nội dung.")
                % {"ref": ref, "other": first_of[ref]}
            ]
        first_of.setdefault(ref, index)
        if problems:
            errors[str(index)] = problems
        cleaned.append(values)
    if errors:
        raise ValidationFailed(
            _("Lô số thu có %(count)s dòng lỗi, chưa dòng nào được ghi.") % {"count": len(errors)},
            fields={"rows": errors},
        )
    with transaction.atomic():
        existing = _existing(office, cleaned)
        _refuse_conflicts(cleaned, existing)
        new = {v["reference"]: v for v in reversed(cleaned) if v["reference"] not in existing}
        # A concurrent batch with one of these references: the INSERT waits for
        # its commit and skips the row, which is read and compared below.
        written = _insert_new(office, actor, [new[ref] for ref in sorted(new)])
        stored = _existing(office, cleaned)
        _refuse_conflicts(cleaned, stored)
        seen: set[str] = set()
        results = []
        for index, values in enumerate(cleaned):
            ref = values["reference"]
            status = "created" if ref in written and ref not in seen else "existing"
            seen.add(ref)
            results.append(RevenueRowResult(index, ref, status, stored[ref]))
    return results


_INSERT_FIELDS = ("office", "imported_by", "created_at", "reference", *CONTENT_FIELDS)
_INSERT_CHUNK = 500


def _insert_new(office: Organisation, actor: User, rows: list[dict[str, Any]]) -> set[str]:
    """INSERT … ON CONFLICT (office, reference) DO NOTHING RETURNING reference:
    the references this call wrote (bulk_create(ignore_conflicts=True) does
    not say which). In chunks, each value prepared by its model field."""
    if not rows:
        return set()
    meta = RevenueCollection._meta
    fields = [meta.get_field(name) for name in _INSERT_FIELDS]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    now = timezone.now()
    written: set[str] = set()
    for start in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[start:start + _INSERT_CHUNK]
        params: list[Any] = []
        for values in chunk:
            row = {**values, "office": office.pk, "imported_by": actor.pk, "created_at": now}
            params.extend(f.get_db_prep_save(row[f.name], connection) for f in fields)
        placeholders = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(chunk))
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {placeholders} "  # noqa: S608 - the model's own table
            f"ON CONFLICT ({quote('office_id')}, {quote('reference')}) DO NOTHING RETURNING {quote('reference')}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            written.update(r[0] for r in cursor.fetchall())
    return written


def _existing(office: Organisation, cleaned: list[dict[str, Any]]) -> dict[str, RevenueCollection]:
    refs = {v["reference"] for v in cleaned}
    return {r.reference: r for r in RevenueCollection.objects.filter(office=office, reference__in=refs)}


def _refuse_conflicts(cleaned: list[dict[str, Any]], existing: Mapping[str, RevenueCollection]) -> None:
    conflicts = {
        str(index): {"reference": [
            _("Số tham chiếu %(ref)s đã được ghi với nội dung khác (ngày %(day)s, số tiền %(amount)s).")
            % {"ref": values["reference"], "day": existing[values["reference"]].collected_on.isoformat(),
               "amount": existing[values["reference"]].amount}
        ]}
        for index, values in enumerate(cleaned)
        if values["reference"] in existing and _row_content(existing[values["reference"]]) != _content(values)
    }
    if conflicts:
        raise ApplicationError(
            "revenue_reference_conflict",
            _("%(count)s dòng có số tham chiếu đã được ghi với nội dung khác: chưa dòng nào của lô được ghi.")
            % {"count": len(conflicts)},
            fields={"rows": conflicts},
        )


# --- the file --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadReport:
    """What an uploaded file did: each row's line (the header is line 1) and
    status, or the refusal with each row's errors (nothing written)."""

    rows: list[dict[str, Any]]
    created: int
    existing: int
    error: str = ""


def revenue_import_file(*, actor: User, office: Organisation | str, content: bytes, filename: str = "") -> UploadReport:
    """An uploaded CSV or XLSX (columns REVENUE_COLUMNS, payer_name optional,
    at most MAX_BATCH_ROWS rows) through `revenue_import`. A refused batch is
    reported row by row (line numbers of the file), not raised; a file that
    cannot be read is refused whole (ValidationFailed)."""
    from payments.services.csv_upload import upload_rows

    office = _office(actor, office)
    rows = upload_rows(content, filename, REVENUE_COLUMNS, max_rows=MAX_BATCH_ROWS)
    try:
        results = revenue_import(actor=actor, office=office, rows=rows)
    except ApplicationError as exc:
        if not isinstance(exc.fields.get("rows"), dict):
            raise
        per_row = exc.fields["rows"]
        report = []
        for index, row in enumerate(rows):
            problems = per_row.get(str(index), {})
            report.append({
                "line": index + 2, "reference": _text(row.get("reference")),
                "status": "rejected" if problems else "valid",
                "detail": " ".join(f"{name}: {' '.join(str(m) for m in msgs)}" for name, msgs in problems.items()),
            })
        return UploadReport(report, 0, 0, error=exc.message)
    report = [{"line": r.index + 2, "reference": r.reference, "status": r.status, "detail": ""} for r in results]
    return UploadReport(
        report, sum(r.status == "created" for r in results), sum(r.status == "existing" for r in results),
    )


def revenue_template_csv() -> bytes:
    """The upload's template: the columns and two example rows."""
    lines = [
        ",".join((*REVENUE_COLUMNS, *OPTIONAL_COLUMNS)),
        f"TCT-2026-000001,2026-01-15,{BudgetLevel.CENTRAL.value},754,1001,tax,12500000,Công ty TNHH Ví dụ",
        f"TCT-2026-000002,2026-01-15,{BudgetLevel.PROVINCIAL.value},757,2601,fee,350000,",
    ]
    return ("\ufeff" + "\n".join(lines) + "\n").encode()
