"""Reads of the ledger: accounts the user may see, their movements, statements."""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db.models import BigIntegerField, Case, F, Q, QuerySet, Value, When
from django.db.models import CharField as CharFieldExpr
from django.utils import timezone

from accounts.models import TREASURY_ROLES
from accounts.selectors import has_role, unit_scope_q
from payments.models import Account, AccountKind, Transfer
from treasury_portal.errors import NotFound, ValidationFailed

STATEMENT_MAX_DAYS = 366


def accounts_visible(user, *, unit: str | None = None, kind: str | None = None) -> QuerySet[Account]:  # noqa: ANN001
    """Unit members see their units' accounts; treasury staff those of their
    offices' units and the treasury's own accounts."""
    q = unit_scope_q(user)
    if has_role(user, *TREASURY_ROLES):
        q |= Q(kind=AccountKind.TREASURY)
    qs = Account.objects.filter(q).select_related("unit")
    if unit:
        qs = qs.filter(unit__code=unit)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("number")


def access_account(user, pk: int) -> Account:  # noqa: ANN001
    account = accounts_visible(user).filter(pk=pk).first()
    if account is None:
        raise NotFound()
    return account


def account_transactions(account: Account) -> QuerySet[Transfer]:
    """The account's ledger lines, newest first, each with its direction, the
    signed amount, the other account and the balance right after it."""
    mine = Q(debit_account=account)
    return (
        Transfer.objects.filter(Q(debit_account=account) | Q(credit_account=account))
        .select_related("debit_account", "credit_account", "voucher")
        .annotate(
            direction=Case(When(mine, then=Value("debit")), default=Value("credit"), output_field=CharFieldExpr()),
            signed_amount=Case(
                When(mine, then=F("amount") * -1), default=F("amount"), output_field=BigIntegerField()
            ),
            balance_after=Case(
                When(mine, then=F("debit_balance_after")), default=F("credit_balance_after"),
                output_field=BigIntegerField(),
            ),
        )
        .order_by("-created_at", "-id")
    )


def other_side(transfer: Transfer, account: Account) -> Account:
    return transfer.credit_account if transfer.debit_account_id == account.pk else transfer.debit_account


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def parse_period(start: str | date | None, end: str | date | None) -> tuple[date, date]:
    """A statement period from ISO dates (default: this month so far)."""
    today = timezone.localdate()
    try:
        first = date.fromisoformat(start) if isinstance(start, str) and start else (start or today.replace(day=1))
        last = date.fromisoformat(end) if isinstance(end, str) and end else (end or today)
    except ValueError:
        raise ValidationFailed(
            "Ngày phải theo dạng YYYY-MM-DD.", fields={"from": [str(start)], "to": [str(end)]}
        ) from None
    if last < first:
        raise ValidationFailed("Ngày cuối kỳ phải sau ngày đầu kỳ.", fields={"to": [str(last)]})
    if (last - first).days >= STATEMENT_MAX_DAYS:
        raise ValidationFailed("Kỳ sao kê tối đa một năm.", fields={"to": [str(last)]})
    return first, last


def account_statement(account: Account, start: date, end: date) -> dict:
    """Opening balance, the period's lines (oldest first), totals, closing
    balance. Balances come from the transfers' stored balance-after values."""
    begin, finish = _day_start(start), _day_start(end + timedelta(days=1))
    before = account_transactions(account).filter(created_at__lt=begin).first()
    opening = before.balance_after if before else 0
    period = account_transactions(account).filter(created_at__gte=begin, created_at__lt=finish)
    rows = list(period.order_by("created_at", "id"))
    debits = sum(r.amount for r in rows if r.direction == "debit")
    credits = sum(r.amount for r in rows if r.direction == "credit")
    for r in rows:
        r.counterparty = r.counterparty_name or other_side(r, account).name
        r.counterparty_number = r.counterparty_account or other_side(r, account).number
    return {
        "start": start,
        "end": end,
        "opening": opening,
        "rows": rows,
        "total_debits": debits,
        "total_credits": credits,
        "closing": rows[-1].balance_after if rows else opening,
    }


def account_daily_balances(account: Account, *, days: int = 30, today: date | None = None) -> list[tuple[date, int]]:
    """The account's closing balance on each of the last `days` days (today
    included), from the transfers' stored balance-after values: two queries."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    before = account_transactions(account).filter(created_at__lt=_day_start(first)).first()
    closing: dict[date, int] = {}
    rows = account_transactions(account).filter(
        created_at__gte=_day_start(first), created_at__lt=_day_start(today + timedelta(days=1))
    ).order_by("created_at", "id").values_list("created_at", "balance_after")
    for at, after in rows:
        closing[timezone.localdate(at)] = after
    balance = before.balance_after if before else 0
    series = []
    for i in range(days):
        day = first + timedelta(days=i)
        balance = closing.get(day, balance)
        series.append((day, balance))
    return series


def access_account_administered(user, pk: int) -> Account:  # noqa: ANN001
    """A unit's account the user administers (treasury administrator over its unit); 404 otherwise."""
    from accounts.models import Role
    from accounts.selectors import user_has_treasury_role_over

    account = access_account(user, pk)
    if account.unit_id is None or not (
        user.is_superuser or user_has_treasury_role_over(user, account.unit, Role.ADMINISTRATOR)
    ):
        raise NotFound()
    return account


# --- a deposit account's headroom -------------------------------------------------------


def deposits_committed(account_ids: Iterable[int], *, exclude_voucher: int | None = None) -> dict[int, int]:
    """What open payment orders (C4-02a/KB vouchers submitted, in control,
    pending approval, approved or failed to pay) already claim of each deposit
    account, by account id (an account without any: absent). One query. The one
    home of "committed": the voucher's submission and preflight and the autopay
    run (payments.services.autopay) all ask here."""
    from django.db.models import Sum

    from vouchers.models import OPEN_STATUSES, Voucher

    ids = sorted({int(i) for i in account_ids if i is not None})
    if not ids:
        return {}
    qs = Voucher.objects.filter(deposit_account_id__in=ids, status__in=list(OPEN_STATUSES))
    if exclude_voucher:
        qs = qs.exclude(pk=exclude_voucher)
    return dict(
        qs.order_by().values("deposit_account_id").annotate(total=Sum("total_amount"))
        .values_list("deposit_account_id", "total")
    )


def deposit_headroom(account: Account, *, exclude_voucher: int | None = None, balance: int | None = None) -> int:
    """What a deposit account can still pay: its balance (or `balance`, the
    caller's running figure) less what open payment orders claim of it."""
    committed = deposits_committed([account.pk], exclude_voucher=exclude_voucher).get(account.pk, 0)
    return (account.balance if balance is None else balance) - committed
