"""Budget counters: the only writer of BudgetLine.allocated / reserved / spent.

Every change is a conditional UPDATE with F() expressions (checked by its row
count) plus a BudgetMovement row with a unique key, so a repeat is a no-op and
the counters always equal the sums of their movements:

    allocated = Σ allocate
    reserved  = Σ reserve − Σ release − Σ spend
    spent     = Σ spend

The CHECK constraints of BudgetLine are the backstop. A voucher's reservation is
reconciled line by line against what its lines ask for (`_sync_reservation`), in
budget-line id order so concurrent vouchers lock rows in the same order.
"""

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, Case, Count, F, Q, Sum, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Organisation, OrgKind, Role
from accounts.selectors import user_has_treasury_role_over
from payments.models import BudgetLine, BudgetMovement, BudgetMovementKind
from payments.services.bulk_sql import insert_rows
from payments.services.csv_upload import csv_rows
from treasury_portal.errors import ApplicationError, NotFound, ValidationFailed

# Counters as integers of đồng; a line above this would break the JSON of the API.
MAX_AMOUNT = 10**15


def _money_text(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _check_admin_over(actor, unit: Organisation) -> None:  # noqa: ANN001
    if actor is None:  # the system itself (demo seeding, commands)
        return
    if not (actor.is_superuser or user_has_treasury_role_over(actor, unit, Role.ADMINISTRATOR)):
        raise NotFound()


# --- allocation -------------------------------------------------------------


def budget_line_get_or_create(
    *,
    actor,  # noqa: ANN001
    unit: Organisation,
    fiscal_year: int,
    chapter: str,
    sector: str,
    ndkt: str,
    funding_source: str,
    programme: str = "00000",
    budget_level: str,
    name: str = "",
) -> BudgetLine:
    """The line with this classification, created with zero counters if missing."""
    _check_admin_over(actor, unit)
    fields = {
        "chapter": chapter, "sector": sector, "ndkt": ndkt, "funding_source": funding_source,
        "programme": programme or "00000", "budget_level": budget_level,
    }
    errors = _classification_errors(fields)
    if errors:
        raise ValidationFailed(_("Mã phân loại ngân sách không hợp lệ."), fields=errors)
    line = BudgetLine.objects.filter(unit=unit, fiscal_year=fiscal_year, **fields).first()
    if line is not None:
        return line
    try:
        with transaction.atomic():
            return BudgetLine.objects.create(unit=unit, fiscal_year=fiscal_year, name=name[:255], **fields)
    except IntegrityError:  # created by a concurrent call
        return BudgetLine.objects.get(unit=unit, fiscal_year=fiscal_year, **fields)


def budget_allocate(*, actor, budget_line: BudgetLine, amount: int, key: str, note: str = "") -> BudgetMovement:  # noqa: ANN001
    """Add `amount` to the line's allocation, at most once per `key`.

    A repeat with the same key and the same line and amount returns the first
    movement; the same key for something else is `idempotency_conflict`.
    """
    _check_admin_over(actor, budget_line.unit)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0 or amount > MAX_AMOUNT:
        raise ValidationFailed(
            _("Số tiền giao dự toán phải là số nguyên dương (đồng)."), fields={"amount": [_("Không hợp lệ.")]}
        )
    if not key or len(key) > 200:
        raise ValidationFailed(_("Thiếu khóa định danh của lần giao dự toán."), fields={"key": [_("Bắt buộc.")]})
    with transaction.atomic():
        try:
            # The movement first: a concurrent call with the same key waits on the
            # unique index and then fails here, before touching the counters.
            with transaction.atomic():
                movement = BudgetMovement.objects.create(
                    budget_line=budget_line, kind=BudgetMovementKind.ALLOCATE, amount=amount, key=key,
                    actor=actor, note=note[:255],
                )
        except IntegrityError:
            existing = BudgetMovement.objects.get(key=key)
            if (
                existing.kind != BudgetMovementKind.ALLOCATE
                or existing.budget_line_id != budget_line.pk
                or existing.amount != amount
            ):
                raise ApplicationError(
                    "idempotency_conflict", _("Khóa %(key)s đã được dùng cho một lần giao dự toán khác.") % {"key": key}
                ) from None
            return existing
        updated = BudgetLine.objects.filter(pk=budget_line.pk, allocated__lte=MAX_AMOUNT - amount).update(
            allocated=F("allocated") + amount
        )
        if updated != 1:
            raise ValidationFailed(_("Dự toán của dòng này vượt giới hạn cho phép."))
        return movement


# --- the CSV loader ---------------------------------------------------------

CSV_COLUMNS = ("unit", "chapter", "sector", "ndkt", "funding_source", "programme", "budget_level", "amount")
OPTIONAL_COLUMNS = ("name", "key")
_FORMATS = {
    "chapter": re.compile(r"[0-9]{3}"),
    "sector": re.compile(r"[0-9]{3}"),
    "ndkt": re.compile(r"[0-9]{4}"),
    "funding_source": re.compile(r"[0-9]{2}"),
    "programme": re.compile(r"[0-9]{5}"),
    "budget_level": re.compile(r"[1-4]"),
}
_FORMAT_HINTS = {
    "chapter": gettext_lazy("3 chữ số"),
    "sector": gettext_lazy("3 chữ số"),
    "ndkt": gettext_lazy("4 chữ số"),
    "funding_source": gettext_lazy("2 chữ số"),
    "programme": gettext_lazy("5 chữ số"),
    "budget_level": gettext_lazy("1, 2, 3 hoặc 4"),
}


def _classification_errors(fields: Mapping[str, str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, pattern in _FORMATS.items():
        if not pattern.fullmatch(str(fields.get(name, ""))):
            errors[name] = [_("Phải gồm %(hint)s.") % {"hint": _FORMAT_HINTS[name]}]
    return errors


def parse_allocation_csv(content: bytes | str) -> list[dict[str, str]]:
    """Rows of an allocation CSV (UTF-8, with or without BOM; comma or semicolon)."""
    return csv_rows(content, CSV_COLUMNS)


def budget_allocations_load_csv(
    *,
    actor,  # noqa: ANN001
    unit_or_office_scope: Organisation,
    fiscal_year: int,
    rows: Iterable[Mapping[str, str]] | bytes | str,
) -> list[BudgetMovement]:
    """Load allocations for units within the scope (an office: its units and the
    units of the offices below; a unit: itself). Each row adds `amount` to its
    line (created when missing). All rows are checked first and nothing is
    written unless every row is valid; errors name the CSV line (the header is
    line 1). Loading the same file again is a no-op (the default key is derived
    from the file's content and the row's line number)."""
    if isinstance(rows, bytes | str):
        rows = parse_allocation_csv(rows)
    rows = [dict(r) for r in rows]
    scope = unit_or_office_scope
    _check_admin_over(actor, scope)
    if not rows:
        raise ValidationFailed(_("Tệp không có dòng dự toán nào."))
    if not (2000 <= int(fiscal_year) <= 2100):
        raise ValidationFailed(_("Năm ngân sách không hợp lệ."), fields={"fiscal_year": [str(fiscal_year)]})
    digest = hashlib.sha256(repr(sorted((i, sorted(r.items())) for i, r in enumerate(rows))).encode()).hexdigest()[:24]
    units_by_code: dict[str, Organisation] = {}
    codes = {r.get("unit", "") for r in rows}
    for unit in Organisation.objects.filter(kind=OrgKind.UNIT, code__in=codes, is_active=True):
        if unit.path.startswith(scope.path):
            units_by_code[unit.code] = unit
    errors: list[str] = []
    planned: list[tuple[int, Organisation, dict[str, str], int, str, str]] = []
    for index, row in enumerate(rows):
        line_no = index + 2
        problems: list[str] = []
        unit = units_by_code.get(row.get("unit", ""))
        if unit is None:
            problems.append(_("mã đơn vị %(unit)s không thuộc phạm vi quản lý") % {"unit": row.get("unit", "") or "∅"})
        fields = {name: row.get(name, "") for name in _FORMATS}
        fields["programme"] = fields["programme"] or "00000"
        for name, msgs in _classification_errors(fields).items():
            problems.append(f"{name}: {msgs[0]}")
        raw_amount = row.get("amount", "").replace(".", "").replace(",", "").replace(" ", "")
        amount = int(raw_amount) if raw_amount.isascii() and raw_amount.isdigit() else 0
        if amount <= 0 or amount > MAX_AMOUNT:
            problems.append(_("số tiền %(amount)s phải là số nguyên dương") % {"amount": row.get("amount", "") or "∅"})
        key = row.get("key") or f"alloc-csv:{fiscal_year}:{digest}:{line_no}"
        if len(key) > 200:
            problems.append(_("khóa quá dài"))
        if problems:
            errors.append(_("Dòng %(line)s: %(problems)s.") % {"line": line_no, "problems": "; ".join(problems)})
        else:
            planned.append((line_no, unit, fields, amount, key, row.get("name", "")))  # type: ignore[arg-type]
    if errors:
        raise ValidationFailed(
            _("Tệp dự toán có lỗi, chưa dòng nào được nạp. %(errors)s") % {"errors": " ".join(errors)},
            fields={"rows": errors},
        )
    movements = []
    with transaction.atomic():
        for _line_no, unit, fields, amount, key, name in planned:
            line = budget_line_get_or_create(actor=None, unit=unit, fiscal_year=fiscal_year, name=name, **fields)
            movements.append(budget_allocate(actor=None, budget_line=line, amount=amount, key=key, note="CSV"))
    return movements


# --- reservations ---------------------------------------------------------


def voucher_budget_target(voucher) -> dict[int, int]:  # noqa: ANN001
    """What the voucher's lines ask of each budget line. Payment orders from a
    deposit account and settlements of an advance reserve nothing: the first
    spend the account's money, the second was spent when the advance was paid."""
    if voucher.deposit_account_id or voucher.settles_id:
        return {}
    target: dict[int, int] = defaultdict(int)
    for line in voucher.lines.all():
        target[line.budget_line_id] += line.amount
    return dict(target)


def _voucher_movements(voucher) -> list[dict]:  # noqa: ANN001
    """The voucher's movements summed (and counted) per budget line and kind: one query."""
    return list(
        BudgetMovement.objects.filter(voucher=voucher)
        .exclude(kind=BudgetMovementKind.ALLOCATE)
        .values("budget_line_id", "kind")
        .annotate(total=Sum("amount"), n=Count("id"))
    )


def voucher_reservation(voucher, rows: list[dict] | None = None) -> dict[int, int]:  # noqa: ANN001
    """What the voucher holds reserved now, per budget line (from the movements)."""
    held: dict[int, int] = defaultdict(int)
    for row in _voucher_movements(voucher) if rows is None else rows:
        # A bank's rejection turned spending back into a reservation (budget_unspend).
        sign = 1 if row["kind"] in (BudgetMovementKind.RESERVE, BudgetMovementKind.UNSPEND) else -1
        held[row["budget_line_id"]] += sign * row["total"]
    return {k: v for k, v in held.items() if v}


def _insufficient(line_id: int, amount: int) -> ApplicationError:
    line = BudgetLine.objects.get(pk=line_id)
    return ApplicationError(
        "insufficient_budget",
        _(
            "Dòng dự toán %(line)s (NDKT %(ndkt)s) không đủ: còn khả dụng %(available)s đồng, "
            "chứng từ cần %(amount)s đồng."
        )
        % {
            "line": line.classification, "ndkt": line.ndkt,
            "available": _money_text(line.available), "amount": _money_text(amount),
        },
        fields={"budget_line": line_id, "available": line.available, "requested": amount},
    )


def _sync_reservation(  # noqa: ANN202
    voucher, target: Mapping[int, int], tag: str, actor=None, held: Mapping[int, int] | None = None  # noqa: ANN001
):
    """Move the voucher's reservation to `target`, line by line in id order
    (`held`: what it holds, read from its movements unless the caller knows)."""
    if held is None:
        held = voucher_reservation(voucher)
    movements = []
    for line_id in sorted(set(held) | set(target)):
        delta = target.get(line_id, 0) - held.get(line_id, 0)
        if delta > 0:
            updated = BudgetLine.objects.filter(
                Q(pk=line_id), Q(allocated__gte=F("reserved") + F("spent") + delta)
            ).update(reserved=F("reserved") + delta)
            if updated != 1:
                raise _insufficient(line_id, delta)
            kind = BudgetMovementKind.RESERVE
        elif delta < 0:
            updated = BudgetLine.objects.filter(pk=line_id, reserved__gte=-delta).update(reserved=F("reserved") + delta)
            if updated != 1:  # the ledger and the counter disagree: stop everything
                raise ApplicationError("budget_inconsistent", _("Số giữ chỗ của dòng dự toán không khớp."), status=500)
            kind = BudgetMovementKind.RELEASE
        else:
            continue
        movements.append(
            BudgetMovement.objects.create(
                budget_line_id=line_id, kind=kind, amount=abs(delta), voucher=voucher, actor=actor,
                key=f"{kind}:{voucher.pk}:{tag}:{line_id}", note=voucher.number[:255],
            )
        )
    return movements


def budget_reserve(
    *, voucher, actor=None, holds_nothing: bool = False, savepoint: bool = True  # noqa: ANN001
) -> list[BudgetMovement]:
    """Reserve what the voucher's current lines ask (on submit; on a resubmission
    only the difference moves). Raises `insufficient_budget` naming the line and
    its available amount; the caller's transaction then leaves nothing behind.
    Call it inside the transition's transaction with the voucher row locked.
    `holds_nothing`: the caller knows the voucher holds no reservation yet (a
    draft's first submission), so its movements are not read (the movement key's
    unique constraint stays the backstop against reserving twice).
    `savepoint=False`: the caller's transaction rolls back with it (no
    savepoint of its own)."""
    with transaction.atomic(savepoint=savepoint):
        return _sync_reservation(
            voucher, voucher_budget_target(voucher), f"v{voucher.content_version}", actor,
            held={} if holds_nothing else None,
        )


def budget_release(*, voucher, actor=None) -> list[BudgetMovement]:  # noqa: ANN001
    """Release everything the voucher holds (refused or withdrawn). A repeat finds
    nothing held and writes nothing."""
    with transaction.atomic():
        return _sync_reservation(voucher, {}, "final", actor)


def budget_spend(*, voucher, actor=None) -> list[BudgetMovement]:  # noqa: ANN001
    """Turn the voucher's reservation into spending (when its payment posts).
    Safe to call twice: the second call finds no reservation left."""
    with transaction.atomic():
        movements = []
        rows = _voucher_movements(voucher)
        unspent = {r["budget_line_id"]: r["n"] for r in rows if r["kind"] == BudgetMovementKind.UNSPEND}
        for line_id, amount in sorted(voucher_reservation(voucher, rows).items()):
            if amount <= 0:
                continue
            updated = BudgetLine.objects.filter(pk=line_id, reserved__gte=amount).update(
                reserved=F("reserved") - amount, spent=F("spent") + amount
            )
            if updated != 1:
                raise ApplicationError("budget_inconsistent", _("Số giữ chỗ của dòng dự toán không khớp."), status=500)
            # After a bank's rejection (budget_unspend) the voucher spends again, under a new key.
            again = unspent.get(line_id, 0)
            movements.append(
                BudgetMovement.objects.create(
                    budget_line_id=line_id, kind=BudgetMovementKind.SPEND, amount=amount, voucher=voucher,
                    actor=actor, key=f"spend:{voucher.pk}:{line_id}" + (f":{again}" if again else ""),
                    note=voucher.number[:255],
                )
            )
        return movements


def voucher_spent(voucher) -> dict[int, int]:  # noqa: ANN001
    """What the voucher has spent now, per budget line (spend − unspend)."""
    spent: dict[int, int] = defaultdict(int)
    rows = (
        BudgetMovement.objects.filter(voucher=voucher, kind__in=[BudgetMovementKind.SPEND, BudgetMovementKind.UNSPEND])
        .values("budget_line_id", "kind")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        spent[row["budget_line_id"]] += row["total"] * (1 if row["kind"] == BudgetMovementKind.SPEND else -1)
    return {k: v for k, v in spent.items() if v}


def budget_unspend(*, voucher, actor=None) -> list[BudgetMovement]:  # noqa: ANN001
    """The bank rejected the voucher's payment: what it spent is reserved again
    (the voucher is open, payment failed, and may be paid again). Safe to call
    twice: the second call finds nothing spent."""
    with transaction.atomic():
        movements = []
        for line_id, amount in sorted(voucher_spent(voucher).items()):
            if amount <= 0:
                continue
            updated = BudgetLine.objects.filter(pk=line_id, spent__gte=amount).update(
                reserved=F("reserved") + amount, spent=F("spent") - amount
            )
            if updated != 1:
                raise ApplicationError("budget_inconsistent", _("Số đã chi của dòng dự toán không khớp."), status=500)
            times = BudgetMovement.objects.filter(
                voucher=voucher, budget_line_id=line_id, kind=BudgetMovementKind.UNSPEND
            ).count()
            movements.append(
                BudgetMovement.objects.create(
                    budget_line_id=line_id, kind=BudgetMovementKind.UNSPEND, amount=amount, voucher=voucher,
                    actor=actor, key=f"unspend:{voucher.pk}:{line_id}:{times + 1}", note=voucher.number[:255],
                )
            )
        return movements


# --- set-based: many lines at once (the batch writers: autopay's run) -----------------------


def conditional_increments(model: type, column: str, deltas: Mapping[int, int], guard, refused_code: str) -> None:  # noqa: ANN001
    """One UPDATE adding deltas[pk] to `column` of each row, only where
    guard(delta) holds; the row count must be every row, else
    ApplicationError(refused_code, 500) and the caller's transaction rolls back.
    Shared by budget_spend_many and ledger.balances_move_many."""
    conditional_moves(model, {column: 1}, deltas, guard, refused_code)


def conditional_moves(  # noqa: ANN201
    model: type, columns: Mapping[str, int], deltas: Mapping[int, int], guard, refused_code: str  # noqa: ANN001
):
    """conditional_increments over several columns at once: each column gets
    sign × deltas[pk] (`columns`: name -> +1 or -1), in one UPDATE."""
    if not deltas:
        return
    condition = Q(pk__in=[])
    for pk, delta in deltas.items():
        condition |= Q(pk=pk) & guard(delta)
    updated = model.objects.filter(condition).update(
        **{
            column: F(column) + Case(*[When(pk=pk, then=Value(sign * d)) for pk, d in deltas.items()],
                                     output_field=BigIntegerField())
            for column, sign in columns.items()
        }
    )
    if updated != len(deltas):
        names = "/".join(columns)
        raise ApplicationError(
            refused_code, f"{model.__name__}.{names}: {updated} of {len(deltas)} rows moved", status=500
        )


def budget_spend_many(
    *, movements: Iterable[tuple[int, int, str, str]], kind: str, now, refused_code: str = "budget_write_refused",  # noqa: ANN001
) -> None:
    """Spend on many budget lines in the caller's transaction (lines locked by
    the caller): one conditional UPDATE of `spent` (each line only while
    allocated >= reserved + spent + its total; the CHECK constraints stay the
    backstop) and one INSERT of the movements, each under its unique key (a
    key spent twice is an IntegrityError). `movements`: (budget_line_id,
    amount, key, note)."""
    movements = list(movements)
    spend: dict[int, int] = defaultdict(int)
    for line_id, amount, _key, _note in movements:
        spend[line_id] += amount
    conditional_increments(
        BudgetLine, "spent", spend, lambda d: Q(allocated__gte=F("reserved") + F("spent") + d), refused_code
    )
    insert_rows(
        BudgetMovement,
        ["budget_line_id", "kind", "amount", "key", "note", "created_at"],
        [(line_id, kind, amount, key, note, now) for line_id, amount, key, note in movements],
    )


def budget_spend_reserved_many(
    *, movements: Iterable[tuple[int, int, str, str, int]], now, refused_code: str = "budget_inconsistent",  # noqa: ANN001
) -> None:
    """budget_spend for many vouchers at once (the voucher payment batches), in
    the caller's transaction: the reservations become spending in one
    conditional UPDATE (reserved − d, spent + d, each line only while
    reserved >= its total; the CHECK constraints stay the backstop) and the
    SPEND movements in one INSERT, each under its unique key (a key spent
    twice is an IntegrityError). `movements`: (budget_line_id, amount, key,
    note, voucher_id); the keys as budget_spend writes them."""
    movements = list(movements)
    spend: dict[int, int] = defaultdict(int)
    for line_id, amount, _key, _note, _voucher_id in movements:
        spend[line_id] += amount
    conditional_moves(
        BudgetLine, {"reserved": -1, "spent": 1}, spend, lambda d: Q(reserved__gte=d), refused_code
    )
    insert_rows(
        BudgetMovement,
        ["budget_line_id", "kind", "amount", "key", "note", "voucher_id", "created_at"],
        [(line_id, BudgetMovementKind.SPEND, amount, key, note, voucher_id, now)
         for line_id, amount, key, note, voucher_id in movements],
    )
