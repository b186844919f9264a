"""Reads of payments: the treasury's intents, bank files, and the result
section of a voucher's page."""

from datetime import timedelta

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import TREASURY_ROLES, Role
from accounts.selectors import office_scope_q, unit_scope_q
from payments.models import (
    BankFile,
    BankStatusReport,
    PaymentIntent,
    PaymentIntentStatus,
)
from treasury_portal.errors import NotFound

RETRY_ROLES = (Role.APPROVER, Role.ADMINISTRATOR)


def intents_visible(user, *, status: str | None = None) -> QuerySet[PaymentIntent]:  # noqa: ANN001
    """Treasury staff: the intents of their offices' units."""
    qs = PaymentIntent.objects.filter(unit_scope_q(user, prefix="voucher__unit", roles=set(TREASURY_ROLES)))
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("voucher__unit", "clearing_bank", "bank_file").order_by("-updated_at", "-id")


def intent_counts(user) -> dict[str, int]:  # noqa: ANN001
    rows = intents_visible(user).order_by().values("status").annotate(n=Count("id"))
    counts = {s: 0 for s in PaymentIntentStatus.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def paid_per_day(user, *, days: int = 14, today=None) -> list[tuple]:  # noqa: ANN001
    """Payments completed per local day over the last `days` days (today
    included): [(day, count, amount)], oldest first, one query."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    rows = (
        intents_visible(user, status=PaymentIntentStatus.SUCCEEDED)
        .filter(completed_at__date__gte=first)
        .order_by()
        .annotate(day=TruncDate("completed_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("id"), amount=Sum("voucher__total_amount"))
    )
    by_day = {r["day"]: (r["n"], r["amount"] or 0) for r in rows}
    return [(d, *by_day.get(d, (0, 0))) for d in (first + timedelta(days=i) for i in range(days))]


def unfiled_payments(user) -> QuerySet[PaymentIntent]:  # noqa: ANN001
    return intents_visible(user, status=PaymentIntentStatus.SUCCEEDED).filter(
        clearing_bank__isnull=False, bank_file__isnull=True
    )


def bank_files_visible(user) -> QuerySet[BankFile]:  # noqa: ANN001
    """Treasury staff: the files of their office and the offices below."""
    return (
        BankFile.objects.filter(office_scope_q(user, roles=set(TREASURY_ROLES)))
        .select_related("bank", "office", "created_by")
        .order_by("-created_at", "-id")
    )


def bank_status_reports_visible(user) -> QuerySet[BankStatusReport]:  # noqa: ANN001
    """Treasury staff: the status reports on their offices' files, with their rejections."""
    return (
        BankStatusReport.objects.filter(office_scope_q(user, roles=set(TREASURY_ROLES), field="bank_file__office"))
        .select_related("bank_file__bank", "imported_by")
        .prefetch_related("rejections__voucher")
        .order_by("-created_at", "-id")
    )


def access_bank_file(user, pk: int) -> BankFile:  # noqa: ANN001
    bank_file = bank_files_visible(user).filter(pk=pk).first()
    if bank_file is None:
        raise NotFound()
    return bank_file


def roles(user) -> set[str]:  # noqa: ANN001
    from accounts.selectors import roles_of

    return roles_of(user)


def can_retry_anywhere(user) -> bool:  # noqa: ANN001
    return user.is_superuser or bool(roles(user) & set(RETRY_ROLES))


def unfiled_summary(user) -> list[dict]:  # noqa: ANN001
    """Per bank: how many paid transfers wait for the next file, and their sum."""
    from django.db.models import Sum

    rows = (
        unfiled_payments(user).order_by().values("clearing_bank__code", "clearing_bank__name")
        .annotate(n=Count("id"), total=Sum("voucher__total_amount"))
        .order_by("clearing_bank__code")
    )
    return [
        {"bank": r["clearing_bank__code"], "name": r["clearing_bank__name"], "count": r["n"], "total": r["total"] or 0}
        for r in rows
    ]


def deposit_accounts_administered(user) -> list:  # noqa: ANN001
    """Deposit accounts of the units an administrator serves."""
    from accounts.selectors import visible_units
    from payments.models import Account, AccountKind

    units = visible_units(user, roles={Role.ADMINISTRATOR})
    return list(
        Account.objects.filter(kind=AccountKind.DEPOSIT, unit__in=units).select_related("unit").order_by("number")
    )
