"""The double-entry ledger: accounts and transfers.

Every movement of money is one `Transfer` (debit account, credit account,
positive amount, unique key). `transfer_post` is the only writer of
`Account.balance`: it moves both balances with conditional UPDATEs, unit
accounts before treasury accounts and each in id order (so two transfers, or a
transfer and an autopay batch, lock the accounts they share in the same order),
refuses to take a non-negative account below zero (`insufficient_balance`), and
inserts the transfer under its unique key, all in one transaction. A repeat with
the same key returns the first transfer and moves nothing. Balances are
credits − debits; the CHECK constraint `account_not_negative` is the backstop.

The scheme (docs/ledger.md):

- `9511.L`         treasury: estimate authority of budget level L (allow negative)
- `9523.L.UNIT`    unit: budget estimate account (credited by allocations,
                   debited by budget-funded payments)
- `3741.L.UNIT.P`  unit: deposit account of programme P (credited by deposits,
                   debited by C4-02a/KB payment orders)
- `1112`           treasury: its money at the State Bank (deposits come in here)
- `3856.BANK`      treasury: outgoing payments waiting for BANK's next file
- `1113.BANK`      treasury: its settlement account at BANK (money goes out here)
"""

import re
from collections.abc import Iterable, Mapping

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import Organisation, OrgKind, Role
from accounts.selectors import user_has_treasury_role_over
from payments.models import (
    ALLOCATION_DESCRIPTION,
    DEPOSIT_DESCRIPTION,
    Account,
    AccountKind,
    Bank,
    BudgetLevel,
    BudgetMovement,
    BudgetMovementKind,
    Transfer,
    TransferKind,
)
from payments.services.bulk_sql import insert_rows, reserve_ids
from payments.services.csv_upload import csv_rows
from treasury_portal.errors import ApplicationError, NotFound, ValidationFailed

MAX_AMOUNT = 10**15
TREASURY_CASH = "1112"


def money_text(amount: int) -> str:
    """1234567 → "1.234.567" (the Vietnamese grouping used in stored texts)."""
    sign = "-" if amount < 0 else ""
    return sign + f"{abs(amount):,}".replace(",", ".")


# --- account numbers --------------------------------------------------------


def estimate_account_number(unit: Organisation, level: str) -> str:
    return f"9523.{level}.{unit.code}"


def deposit_account_number(unit: Organisation, level: str, programme: str = "00000") -> str:
    return f"3741.{level}.{unit.code}.{programme}"


def _check_level(level: str) -> None:
    if level not in BudgetLevel.values:
        raise ValidationFailed(_("Cấp ngân sách không hợp lệ."), fields={"budget_level": [level]})


def _check_admin_over(actor, unit: Organisation) -> None:  # noqa: ANN001
    if actor is None:  # the system itself: demo seeding, commands, the payment worker
        return
    if not (actor.is_superuser or user_has_treasury_role_over(actor, unit, Role.ADMINISTRATOR)):
        raise NotFound()


def _get_or_create_account(number: str, defaults: dict) -> Account:
    account = Account.objects.filter(number=number).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(number=number, **defaults)
    except IntegrityError:  # opened by a concurrent call
        return Account.objects.get(number=number)


def treasury_account(number: str, name: str, *, bank: Bank | None = None) -> Account:
    """A treasury account (allowed below zero: the treasury's own side)."""
    return _get_or_create_account(
        number, {"name": name, "kind": AccountKind.TREASURY, "allow_negative": True, "bank": bank}
    )


def treasury_cash_account() -> Account:
    return treasury_account(TREASURY_CASH, "Tiền gửi của Kho bạc Nhà nước tại Ngân hàng Nhà nước")


def estimate_source_account(level: str) -> Account:
    _check_level(level)
    return treasury_account(f"9511.{level}", f"Nguồn dự toán giao — ngân sách cấp {level}")


def bank_clearing_account(bank: Bank) -> Account:
    """Payments to payees at `bank` wait here until the bank file takes them."""
    return _get_or_create_account(
        f"3856.{bank.code}",
        {"name": f"Thanh toán đi chờ chuyển qua {bank.name}", "kind": AccountKind.TREASURY,
         "allow_negative": False, "bank": bank},
    )


def bank_settlement_account(bank: Bank) -> Account:
    return treasury_account(f"1113.{bank.code}", f"Tiền gửi thanh toán của Kho bạc tại {bank.name}", bank=bank)


def account_open(
    *, actor, unit: Organisation, kind: str, level: str, programme: str = "00000"  # noqa: ANN001
) -> Account:
    """Open (or return) a unit's estimate account `9523.L.UNIT` or deposit
    account `3741.L.UNIT.P`. Unit accounts never go below zero."""
    _check_admin_over(actor, unit)
    _check_level(level)
    if unit.kind != OrgKind.UNIT:
        raise ValidationFailed(_("Chỉ đơn vị sử dụng ngân sách mới có tài khoản dự toán và tiền gửi."))
    if kind == AccountKind.ESTIMATE:
        number = estimate_account_number(unit, level)
        name = f"Dự toán chi thường xuyên — {unit.name}"
        programme = ""
    elif kind == AccountKind.DEPOSIT:
        if not re.fullmatch(r"[0-9]{5}", programme or ""):
            raise ValidationFailed(_("Mã chương trình, dự án phải gồm 5 chữ số."), fields={"programme": [programme]})
        number = deposit_account_number(unit, level, programme)
        name = f"Tiền gửi dự toán — {unit.name}"
    else:
        raise ValidationFailed(_("Loại tài khoản không hợp lệ."), fields={"kind": [kind]})
    return _get_or_create_account(
        number,
        {"name": name[:255], "kind": kind, "unit": unit, "budget_level": level, "programme": programme,
         "allow_negative": False},
    )


# --- transfers --------------------------------------------------------------

_MOVE_SQL = (
    "UPDATE payments_account SET balance = balance + %s "
    "WHERE id = %s AND (allow_negative OR balance + %s >= 0) RETURNING balance"
)


def _move(account_id: int, delta: int) -> int | None:
    """Add `delta` to one balance unless that takes a non-negative account below
    zero; the new balance, or None when refused. The row stays locked until
    the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(_MOVE_SQL, [delta, account_id, delta])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _insufficient(account: Account, amount: int) -> ApplicationError:
    current = Account.objects.filter(pk=account.pk).values_list("balance", flat=True).first() or 0
    return insufficient_balance_error(account, current, amount)


def insufficient_balance_error(account, current: int, amount: int) -> ApplicationError:  # noqa: ANN001
    """The refusal of a debit of `amount` from `account` holding `current`
    (transfer_post's; the batch writers decide it from the balances they locked)."""
    return ApplicationError(
        "insufficient_balance",
        _("Số dư tài khoản %(number)s không đủ: còn %(balance)s đồng, cần %(amount)s đồng.")
        % {"number": account.number, "balance": money_text(current), "amount": money_text(amount)},
        fields={"account": account.number, "balance": current, "requested": amount},
    )


def _same_transfer(existing: Transfer, debit: Account, credit: Account, amount: int) -> Transfer:
    if (existing.debit_account_id, existing.credit_account_id, existing.amount) != (debit.pk, credit.pk, amount):
        raise ApplicationError(
            "idempotency_conflict", _("Khóa %(key)s đã được dùng cho một giao dịch khác.") % {"key": existing.key}
        )
    return existing


def transfer_post(
    *,
    debit: Account,
    credit: Account,
    amount: int,
    key: str,
    kind: str,
    voucher=None,  # noqa: ANN001 - vouchers.models.Voucher
    description: str = "",
    counterparty_name: str = "",
    counterparty_account: str = "",
    actor=None,  # noqa: ANN001
) -> Transfer:
    """Move `amount` from `debit` to `credit`, at most once per `key`.

    One transaction: both balances move with conditional UPDATEs in account-id
    order, then the transfer is inserted under its unique key; a concurrent
    transfer with the same key waits, fails on the key, rolls its moves back and
    returns the first one. Every transfer that touches a unit's account writes
    its balance notifications in the same transaction (the outbox).
    """
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0 or amount > MAX_AMOUNT:
        raise ValidationFailed(_("Số tiền phải là số nguyên dương (đồng)."), fields={"amount": [str(amount)]})
    if debit.pk == credit.pk:
        raise ValidationFailed(_("Tài khoản ghi nợ và ghi có phải khác nhau."))
    if not key or len(key) > 200:
        raise ValidationFailed(_("Thiếu khóa định danh của giao dịch."), fields={"key": [_("Bắt buộc.")]})
    if kind not in TransferKind.values:
        raise ValidationFailed(_("Loại giao dịch không hợp lệ."), fields={"kind": [kind]})
    existing = Transfer.objects.filter(key=key).first()
    if existing is not None:
        return _same_transfer(existing, debit, credit, amount)
    try:
        with transaction.atomic():
            balances: dict[int, int] = {}
            # Lock order: unit accounts before treasury accounts, each in id order
            # (the autopay batches credit the hot clearing accounts last).
            for account, delta in sorted(
                ((debit, -amount), (credit, amount)), key=lambda pair: (pair[0].unit_id is None, pair[0].pk)
            ):
                new_balance = _move(account.pk, delta)
                if new_balance is None:
                    raise _insufficient(account, amount)
                balances[account.pk] = new_balance
            transfer = Transfer.objects.create(
                key=key, debit_account=debit, credit_account=credit, amount=amount, kind=kind, voucher=voucher,
                description=description[:500], counterparty_name=counterparty_name[:255],
                counterparty_account=counterparty_account[:40], debit_balance_after=balances[debit.pk],
                credit_balance_after=balances[credit.pk], actor=actor,
            )
    except IntegrityError:
        existing = Transfer.objects.filter(key=key).first()
        if existing is None:
            raise
        return _same_transfer(existing, debit, credit, amount)
    debit.balance, credit.balance = balances[debit.pk], balances[credit.pk]
    if debit.unit_id or credit.unit_id:
        from payments.services.notifications import notify_balance_change

        transfer.debit_account, transfer.credit_account = debit, credit
        notify_balance_change(transfer=transfer)
    # The unit's debit advice is rendered when first downloaded (payments.services.documents).
    return transfer


# --- estimate allocations ---------------------------------------------------


def estimate_allocation_post(*, movement: BudgetMovement) -> Transfer:
    """Mirror one budget allocation into the unit's estimate account:
    debit `9511.L`, credit `9523.L.UNIT`, key `allocate:<movement id>`."""
    if movement.kind != BudgetMovementKind.ALLOCATE:
        raise ValidationFailed(_("Chỉ lần giao dự toán mới được ghi vào tài khoản dự toán."))
    line = movement.budget_line
    estimate = account_open(actor=None, unit=line.unit, kind=AccountKind.ESTIMATE, level=line.budget_level)
    return transfer_post(
        debit=estimate_source_account(line.budget_level), credit=estimate, amount=movement.amount,
        key=f"allocate:{movement.pk}", kind=TransferKind.ALLOCATION,
        description=ALLOCATION_DESCRIPTION % {"year": line.fiscal_year, "line": line.classification},
        actor=movement.actor,
    )


def estimate_allocations_sync(*, unit: Organisation, level: str | None = None) -> list[Transfer]:
    """Post every allocation of the unit's budget lines that the ledger does not
    hold yet (idempotent by key). Budget allocation lives in services/budget.py;
    this keeps the estimate accounts equal to allocated − paid whatever order
    allocations and payments came in."""
    movements = BudgetMovement.objects.filter(
        kind=BudgetMovementKind.ALLOCATE, budget_line__unit=unit
    ).select_related("budget_line__unit", "actor")
    if level:
        movements = movements.filter(budget_line__budget_level=level)
    posted = set(
        Transfer.objects.filter(kind=TransferKind.ALLOCATION, key__startswith="allocate:").filter(
            credit_account__unit=unit
        ).values_list("key", flat=True)
    )
    return [
        estimate_allocation_post(movement=m) for m in movements.order_by("id") if f"allocate:{m.pk}" not in posted
    ]


def estimate_allocations_sync_many(unit_ids: Iterable[int]) -> list[Transfer]:
    """estimate_allocations_sync for many units (the batch writers: autopay's
    run, the voucher payment batches): the allocations of the units' budget
    lines the ledger does not hold yet (usually none: two index reads), posted
    one by one. The lines first, as ids: joined in one query, PostgreSQL
    misjudged the units' lines and scanned the table (40–60 ms a batch at
    95,000 units)."""
    from django.db.models import CharField, Exists, OuterRef, Value
    from django.db.models.functions import Cast, Concat

    from payments.models import BudgetLine

    units = set(unit_ids)
    if not units:
        return []
    line_ids = list(BudgetLine.objects.filter(unit_id__in=units).order_by().values_list("pk", flat=True))
    posted = Transfer.objects.filter(key=Concat(Value("allocate:"), Cast(OuterRef("pk"), output_field=CharField())))
    missing = list(
        BudgetMovement.objects.filter(kind=BudgetMovementKind.ALLOCATE, budget_line_id__in=line_ids)
        .exclude(Exists(posted))
        .order_by()
        .values_list("pk", flat=True)
    )
    if not missing:
        return []
    return [
        estimate_allocation_post(movement=movement)
        for movement in BudgetMovement.objects.filter(pk__in=missing)
        .select_related("budget_line__unit", "actor")
        .order_by("id")
    ]


# --- deposits ---------------------------------------------------------------


def deposit_credit(
    *, actor, account: Account, amount: int, reference: str, description: str = "",  # noqa: ANN001
    depositor: str = "",
) -> Transfer:
    """An administrator credits money received for a unit's deposit account:
    debit the treasury's cash `1112`, credit `3741…`. `reference` (the bank
    or receipt reference) makes a repeat a no-op."""
    if account.kind != AccountKind.DEPOSIT or account.unit_id is None:
        raise ValidationFailed(
            _("Chỉ nộp tiền vào tài khoản tiền gửi của đơn vị."), fields={"account": [account.number]}
        )
    _check_admin_over(actor, account.unit)
    reference = (reference or "").strip()
    if not reference or len(reference) > 100:
        raise ValidationFailed(
            _("Cần số tham chiếu của khoản nộp (tối đa 100 ký tự)."), fields={"reference": [reference]}
        )
    return transfer_post(
        debit=treasury_cash_account(), credit=account, amount=amount, key=f"deposit:{reference}",
        kind=TransferKind.DEPOSIT, description=description or DEPOSIT_DESCRIPTION,
        counterparty_name=depositor, actor=actor,
    )


DEPOSIT_CSV_COLUMNS = ("account", "amount", "reference")


def parse_deposit_csv(content: bytes | str) -> list[dict[str, str]]:
    """Rows of a deposit CSV (UTF-8 with or without BOM; comma or semicolon):
    account, amount, reference, and optionally description, depositor."""
    return csv_rows(content, DEPOSIT_CSV_COLUMNS)


def deposits_load_csv(*, actor, rows: Iterable[Mapping[str, str]] | bytes | str) -> list[Transfer]:  # noqa: ANN001
    """Credit many deposits at once, all or nothing: every row is checked first
    (errors name the CSV line; the header is line 1), then all are posted in one
    transaction. Loading the same file again is a no-op (keys by reference)."""
    if isinstance(rows, bytes | str):
        rows = parse_deposit_csv(rows)
    rows = [dict(r) for r in rows]
    if not rows:
        raise ValidationFailed(_("Tệp không có dòng nộp tiền nào."))
    numbers = {r.get("account", "") for r in rows}
    accounts = {
        a.number: a
        for a in Account.objects.filter(number__in=numbers, kind=AccountKind.DEPOSIT).select_related("unit")
    }
    errors: list[str] = []
    planned: list[tuple[Account, int, str, str, str]] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        line_no = index + 2
        problems: list[str] = []
        account = accounts.get(row.get("account", ""))
        if account is None or not (
            actor is None or actor.is_superuser or user_has_treasury_role_over(actor, account.unit, Role.ADMINISTRATOR)
        ):
            problems.append(
                _("tài khoản tiền gửi %(account)s không có hoặc không thuộc phạm vi quản lý")
                % {"account": row.get("account", "") or "∅"}
            )
        raw = row.get("amount", "").replace(".", "").replace(",", "").replace(" ", "")
        amount = int(raw) if raw.isascii() and raw.isdigit() else 0
        if amount <= 0 or amount > MAX_AMOUNT:
            problems.append(_("số tiền %(amount)s phải là số nguyên dương") % {"amount": row.get("amount", "") or "∅"})
        reference = row.get("reference", "")
        if not reference or len(reference) > 100:
            problems.append(_("thiếu số tham chiếu (tối đa 100 ký tự)"))
        elif reference in seen:
            problems.append(
                _("số tham chiếu %(ref)s trùng với dòng %(other)s") % {"ref": reference, "other": seen[reference]}
            )
        else:
            seen[reference] = line_no
        if problems:
            errors.append(_("Dòng %(line)s: %(problems)s.") % {"line": line_no, "problems": "; ".join(problems)})
        else:
            planned.append((account, amount, reference, row.get("description", ""), row.get("depositor", "")))  # type: ignore[arg-type]
    if errors:
        raise ValidationFailed(
            _("Tệp nộp tiền có lỗi, chưa dòng nào được ghi. %(errors)s") % {"errors": " ".join(errors)},
            fields={"rows": errors},
        )
    with transaction.atomic():
        return [
            deposit_credit(actor=actor, account=account, amount=amount, reference=reference,
                           description=description, depositor=depositor)
            for account, amount, reference, description, depositor in planned
        ]


# --- set-based: many transfers at once (the batch writers: autopay's run) -------------------

TRANSFER_COLUMNS = ["key", "debit_account_id", "credit_account_id", "amount", "kind", "description",
                    "counterparty_name", "counterparty_account", "debit_balance_after", "credit_balance_after",
                    "created_at", "voucher_id"]


def _balance_guard(d: int) -> Q:
    return Q(allow_negative=True) | Q(balance__gte=-d)


def balances_move_many(*, deltas: Mapping[int, int], refused_code: str = "ledger_write_refused") -> None:
    """Move many balances in the caller's transaction: one conditional UPDATE
    (a non-negative account never goes below zero; the CHECK constraint is the
    backstop); every row must move, else ApplicationError(refused_code, 500)."""
    from payments.services.budget import conditional_increments

    conditional_increments(Account, "balance", deltas, _balance_guard, refused_code)


def accounts_lock(account_ids: Iterable[int]) -> dict[int, int]:
    """Lock the accounts in id order until the transaction ends; their balances."""
    return dict(
        Account.objects.select_for_update().filter(pk__in=list(account_ids)).order_by("pk").values_list(
            "pk", "balance"
        )
    )


def transfer_ids_reserve(n: int) -> list[int] | None:
    """`n` fresh transfer ids (PostgreSQL), so rows inserted before the
    transfers can point at them (checked at commit); None elsewhere."""
    return reserve_ids(Transfer, n)


def transfers_post_many(
    *, transfers: list, credits: Mapping[int, int], kind: str, refused_code: str = "ledger_write_refused",
) -> None:
    """The second half of a batch's double entry, in the caller's transaction:
    credit the accounts (`credits`: account id -> total, locked by the caller
    with accounts_lock; the debits were moved with balances_move_many) and
    insert the transfers, each under its unique key, with the balances after.
    `transfers`: objects with TRANSFER_COLUMNS as attributes (but `kind`) and
    `pk` (from transfer_ids_reserve, or None: the ORM assigns it and it is set
    on the object; `voucher_id` is optional)."""
    if not credits:
        return
    balances_move_many(deltas=credits, refused_code=refused_code)
    rows = [
        # voucher_id: a voucher's payment (the voucher payment batches); optional.
        tuple(kind if c == "kind" else getattr(t, c, None) if c == "voucher_id" else getattr(t, c)
              for c in TRANSFER_COLUMNS)
        for t in transfers
    ]
    if transfers and transfers[0].pk is None:
        created = Transfer.objects.bulk_create(
            [Transfer(**dict(zip(TRANSFER_COLUMNS, row, strict=True))) for row in rows]
        )
        for t, row in zip(transfers, created, strict=True):
            t.pk = row.pk
    else:
        insert_rows(
            Transfer, ["id", *TRANSFER_COLUMNS], [(t.pk, *row) for t, row in zip(transfers, rows, strict=True)]
        )
