"""Reads of autopay, scoped like every other read (accounts.selectors):

- authorizations: unit members see their units'; treasury staff those of the
  units of their office and the offices below;
- invoices: supplier clerks see their supplier's; unit members and treasury
  staff the invoices decided for their (offices') units — the exception list.
  An invoice nobody ever authorized has no unit: only its supplier sees it.

Another organisation's object is a 404 (NotFound), never a 403.
"""

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Organisation, OrgKind, Role, User
from accounts.selectors import has_role, memberships_of, unit_scope_q, user_has_treasury_role_over, user_has_unit_role
from autopay.models import (
    AuthorizationSignature,
    AuthorizationStatus,
    AutopayAuthorization,
    AutopayEvent,
    AutopayRun,
    ExceptionCode,
    InvoiceStatus,
    SupplierInvoice,
)
from treasury_portal.errors import NotFound


def supplier_ids_of(user: User) -> list[int]:
    """The suppliers the user works for as a supplier clerk."""
    return [
        m.organisation_id
        for m in memberships_of(user)
        if m.role == Role.SUPPLIER_CLERK and m.organisation.kind == OrgKind.SUPPLIER
    ]


def clerk_suppliers(user: User) -> list[Organisation]:
    """The suppliers the user sends invoices for (a choice on the upload page when several)."""
    ids = set(supplier_ids_of(user))
    return sorted({m.organisation for m in memberships_of(user) if m.organisation_id in ids}, key=lambda o: o.code)


def autopay_suppliers() -> QuerySet[Organisation]:
    """Suppliers a unit may authorize (active, with a collection account)."""
    return Organisation.objects.filter(
        kind=OrgKind.SUPPLIER, is_active=True, collection_account__isnull=False
    ).order_by("name")


# --- authorizations -------------------------------------------------------------------


def authorizations_visible(
    user: User, *, unit: str | None = None, status: str | None = None, supplier: str | None = None
) -> QuerySet[AutopayAuthorization]:
    """Newest first, with unit, supplier, funding and customer codes loaded."""
    qs = AutopayAuthorization.objects.filter(unit_scope_q(user))
    if unit:
        qs = qs.filter(unit__code=unit)
    if status:
        qs = qs.filter(status=status)
    if supplier:
        qs = qs.filter(supplier__code=supplier)
    return (
        qs.select_related("unit", "supplier", "budget_line", "deposit_account", "confirmed_by")
        .prefetch_related("customer_codes")
        .order_by("-created_at", "-id")
    )


def awaiting_confirmation(user: User) -> QuerySet[AutopayAuthorization]:
    """Submitted authorizations of the units an administrator serves, oldest first."""
    return authorizations_visible(user, status=AuthorizationStatus.SUBMITTED).filter(
        unit_scope_q(user, roles={Role.ADMINISTRATOR})
    ).order_by("submitted_at", "id")


def access_authorization(user: User, pk: int) -> AutopayAuthorization:
    authorization = authorizations_visible(user).filter(pk=pk).first()
    if authorization is None:
        raise NotFound()
    return authorization


def authorization_signatures(authorization: AutopayAuthorization) -> list[AuthorizationSignature]:
    """The live signatures (one per role at most), with key and signer."""
    return list(
        authorization.signatures.filter(voided_at__isnull=True).select_related("key", "signer").order_by("signed_at")
    )


def authorization_events(authorization: AutopayAuthorization) -> QuerySet[AutopayEvent]:
    return authorization.events.select_related("actor").order_by("created_at", "id")


# --- invoices ---------------------------------------------------------------------------


def invoices_visible(
    user: User, *, status: str | None = None, unit: str | None = None, supplier: str | None = None
) -> QuerySet[SupplierInvoice]:
    """Supplier clerks: their supplier's invoices; unit and treasury users: the
    invoices decided for their units. Newest first."""
    q = Q(pk__in=[])
    suppliers = supplier_ids_of(user)
    if suppliers:
        q |= Q(supplier_id__in=suppliers)
    q |= unit_scope_q(user)
    qs = SupplierInvoice.objects.filter(q)
    if status:
        qs = qs.filter(status=status)
    if unit:
        qs = qs.filter(unit__code=unit)
    if supplier:
        qs = qs.filter(supplier__code=supplier)
    return qs.select_related("supplier", "unit", "transfer", "closed_by").order_by("-created_at", "-id")


def supplier_invoices(user: User, *, status: str | None = None) -> QuerySet[SupplierInvoice]:
    """A supplier clerk's invoices (what the supplier API lists)."""
    qs = SupplierInvoice.objects.filter(supplier_id__in=supplier_ids_of(user))
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("supplier", "unit", "transfer").order_by("-created_at", "-id")


def access_supplier_invoice(user: User, pk: int) -> SupplierInvoice:
    """One of the supplier's own invoices (supplier clerks), else 404."""
    invoice = supplier_invoices(user).filter(pk=pk).first()
    if invoice is None:
        raise NotFound()
    return invoice


def exceptions_visible(
    user: User, *, unit: str | None = None, code: str | None = None, closed: bool | None = False
) -> QuerySet[SupplierInvoice]:
    """The exception list of the user's units (unit users, treasury staff):
    the open exceptions by default, the closed ones (handled another way) with
    `closed=True`, both with `closed=None`."""
    qs = SupplierInvoice.objects.filter(unit_scope_q(user), status=InvoiceStatus.EXCEPTION)
    if closed is not None:
        qs = qs.filter(closed_at__isnull=not closed)
    if unit:
        qs = qs.filter(unit__code=unit)
    if code:
        qs = qs.filter(exception_code=code)
    return qs.select_related("supplier", "unit", "closed_by").order_by("-created_at", "-id")


# Who acts on an exception (retry it, close it): the unit's chief accountants and
# account holders, and the treasury's administrators and control officers over
# the unit's office.
EXCEPTION_UNIT_ROLES = (Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)
EXCEPTION_TREASURY_ROLES = (Role.ADMINISTRATOR, Role.CONTROL_OFFICER)
EXCEPTION_ROLES = (*EXCEPTION_UNIT_ROLES, *EXCEPTION_TREASURY_ROLES)


def can_handle_exceptions_of(user: User, unit: Organisation | None) -> bool:
    """May the user retry or close the exceptions of this unit? (No query:
    the memberships are cached on the user; the unit's path is on the row.)"""
    if unit is None:
        return bool(user.is_superuser)
    return bool(
        user.is_superuser
        or user_has_unit_role(user, unit, *EXCEPTION_UNIT_ROLES)
        or user_has_treasury_role_over(user, unit, *EXCEPTION_TREASURY_ROLES)
    )


# Exceptions a retry would meet again: a period already paid, an amount the same history holds.
NOT_RETRYABLE = frozenset({ExceptionCode.DUPLICATE_PERIOD, ExceptionCode.AMOUNT_ANOMALY})


def exception_actions(user: User, invoice: SupplierInvoice) -> tuple[bool, bool]:
    """(may retry, may close) this invoice, for the pages' buttons — the rules of
    autopay_invoice_retry / autopay_invoice_close, which decide for real: an open
    exception, a user who may handle the unit's exceptions, and no retry of a
    period already paid nor of an unusual amount (`can_confirm_amount` releases that)."""
    is_open = invoice.status == InvoiceStatus.EXCEPTION and invoice.closed_at is None
    may_close = is_open and can_handle_exceptions_of(user, invoice.unit)
    return may_close and invoice.exception_code not in NOT_RETRYABLE, may_close


def can_confirm_amounts_of(user: User, unit: Organisation | None) -> bool:
    """Is the user the unit's account holder, who alone confirms an amount held as unusual? (No query.)"""
    return unit is not None and user_has_unit_role(user, unit, Role.ACCOUNT_HOLDER)


def can_confirm_amount(user: User, invoice: SupplierInvoice) -> bool:
    """May the user confirm this invoice's amount so the next run pays it
    (autopay_invoice_confirm_amount)? An open `amount_anomaly` exception and the
    unit's account holder: the money is the unit's."""
    return bool(
        invoice.status == InvoiceStatus.EXCEPTION
        and invoice.closed_at is None
        and invoice.exception_code == ExceptionCode.AMOUNT_ANOMALY
        and can_confirm_amounts_of(user, invoice.unit)
    )


def access_unit_invoice(user: User, pk: int) -> SupplierInvoice:
    """An invoice decided for one of the user's units (unit users, treasury
    staff over its office), whatever its status, else 404 (a supplier clerk's
    view of its own invoices is `access_supplier_invoice`)."""
    invoice = (
        SupplierInvoice.objects.filter(unit_scope_q(user), pk=pk)
        .select_related("supplier", "unit", "transfer", "closed_by")
        .first()
    )
    if invoice is None:
        raise NotFound()
    return invoice


def access_invoice(user: User, pk: int) -> SupplierInvoice:
    """An invoice the user may see in any role (supplier, unit, treasury), else 404."""
    invoice = invoices_visible(user).filter(pk=pk).first()
    if invoice is None:
        raise NotFound()
    return invoice


def invoice_events(invoice: SupplierInvoice) -> QuerySet[AutopayEvent]:
    return invoice.events.select_related("actor").order_by("created_at", "id")


# --- runs -------------------------------------------------------------------------------


def autopay_runs(*, limit: int = 20) -> list[AutopayRun]:
    """The latest runs with their progress (counts only: no organisation's data)."""
    return list(AutopayRun.objects.order_by("-started_at", "-id")[:limit])


def autopay_run_progress(run: AutopayRun) -> dict:
    done = run.processed
    return {
        "id": run.pk, "trigger": run.trigger, "status": run.status, "started_at": run.started_at,
        "finished_at": run.finished_at,
        "total": run.total, "processed": done, "paid": run.paid, "excepted": run.excepted,
        "paid_amount": run.paid_amount, "percent": 100 if not run.total else min(100, round(100 * done / run.total)),
    }


# --- the roll-over into the next fiscal year (moved from payments.selectors.yearend) -------

SIGNER_ROLES = (Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)


def rollover_candidates(user: User, year: int | None = None) -> QuerySet[AutopayAuthorization]:
    """Active authorizations on a budget line of `year` (default: this year, or
    last year during January) of the user's units, not yet rolled over."""
    today = timezone.localdate()
    if year is None:
        year = today.year if today.month > 1 else today.year - 1
    if not has_role(user, *SIGNER_ROLES, Role.PREPARER) and not user.is_superuser:
        return AutopayAuthorization.objects.none()
    return (
        AutopayAuthorization.objects.filter(
            unit_scope_q(user, roles={Role.PREPARER, *SIGNER_ROLES}), budget_line__fiscal_year=year,
            status=AuthorizationStatus.ACTIVE, rolled_over_to__isnull=True,
        )
        .select_related("unit", "supplier", "budget_line")
        .order_by("unit__code", "id")
    )


def can_roll_over(user: User, authorization: AutopayAuthorization) -> bool:
    """A signer of the unit rolls an active authorization on a budget line over once."""
    return (
        authorization.status == AuthorizationStatus.ACTIVE
        and authorization.budget_line_id is not None
        and not rolled_over(authorization)
        and (user.is_superuser or user_has_unit_role(user, authorization.unit, *SIGNER_ROLES))
    )


def rolled_over(authorization: AutopayAuthorization) -> bool:
    try:
        return authorization.rolled_over_to is not None
    except AutopayAuthorization.DoesNotExist:
        return False
