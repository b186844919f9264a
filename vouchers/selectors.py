"""Reads of the vouchers app: the catalogue in force, the working-day calendar,
and vouchers (permission-checked with `access_*`, 404 for others' objects)."""

import functools
import time as monotonic_clock
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db import connections, router
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts import crypto
from accounts.canonical import content_hash
from accounts.models import TREASURY_ROLES, Absence, Organisation, OrgKind, Role, User
from accounts.selectors import (
    active_absences,
    db_datetime,
    delegate_of,
    memberships_of,
    office_scope_q,
    offices_in_scope,
    treasury_staff_over,
    unit_scope_q,
    user_has_treasury_role_over,
)
from payments.models import Account
from treasury_portal.errors import ApplicationError, NotFound, ValidationFailed
from treasury_portal.money import format_number
from vouchers.models import (
    EDITABLE_STATUSES,
    OPEN_STATUSES,
    Attachment,
    CalendarDay,
    CalendarDayKind,
    ChecklistItem,
    DocumentKind,
    DocumentRequirement,
    Procedure,
    ProcedureVersion,
    ReasonCode,
    Signature,
    Voucher,
    VoucherEvent,
    VoucherLine,
    VoucherStatus,
)
from vouchers.working_days import (
    TZ,
    WorkCalendar,
    due_at,
    effective_receipt_day,
    extend_due_for_pause,
    peak_processing_days,
)

SIGNATURE_ROLES = (Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)
# An advance above this needs a contract and is at most half of its value.
ADVANCE_CONTRACT_THRESHOLD = 50_000_000
NEAR_DUE = timedelta(hours=8)


def local_today() -> date:
    return timezone.now().astimezone(TZ).date()


# --- the catalogue ----------------------------------------------------------


def procedure_version_in_force(procedure: Procedure, day: date) -> ProcedureVersion | None:
    """The version with the latest effective_from on or before `day`."""
    cached = getattr(procedure, "_versions_desc", None)
    if cached is not None:
        return next((v for v in cached if v.effective_from <= day), None)
    return procedure.versions.filter(effective_from__lte=day).order_by("-effective_from").first()


# --- the catalogue, per process ------------------------------------------------
#
# Each procedure's versions (newest first, documents and checklist prefetched),
# kept in this process for CATALOGUE_SECONDS: the catalogue changes rarely and
# submit reads it on every voucher. A save or delete of a procedure, version,
# document requirement or checklist item drops this process's copy at once
# (vouchers.apps: post_save/post_delete); other processes see it within
# CATALOGUE_SECONDS at most. The instances are shared: read them, never write.
CATALOGUE_SECONDS = 60
_catalogue: dict[int, tuple[float, list[ProcedureVersion]]] = {}


def procedure_versions(procedure_id: int) -> list[ProcedureVersion]:
    """The procedure's versions, newest first, with their documents and checklist
    (three queries when not in this process's copy, none when they are)."""
    now = monotonic_clock.monotonic()
    hit = _catalogue.get(procedure_id)
    if hit is not None and now - hit[0] < CATALOGUE_SECONDS:
        return hit[1]
    versions = list(
        ProcedureVersion.objects.filter(procedure_id=procedure_id).order_by("-effective_from").prefetch_related(
            Prefetch("documents", queryset=DocumentRequirement.objects.order_by("id")),
            Prefetch("checklist", queryset=ChecklistItem.objects.order_by("id")),
        )
    )
    _catalogue[procedure_id] = (now, versions)
    return versions


_procedures: list[tuple[float, list[Procedure]]] = []


def _procedures_by_code(code: str) -> list[Procedure]:
    """The procedures of `code`, from this process's copy of the whole list (one
    query when it is older than CATALOGUE_SECONDS, none otherwise)."""
    now = monotonic_clock.monotonic()
    if not _procedures or now - _procedures[0][0] >= CATALOGUE_SECONDS:
        _procedures[:] = [(now, list(Procedure.objects.order_by("position", "code", "id")))]
    return [p for p in _procedures[0][1] if p.code == code]


def catalogue_invalidate(*args: object, **kwargs: object) -> None:
    """Drop this process's copy of the catalogue (a signal receiver too)."""
    _catalogue.clear()
    _procedures.clear()


def procedures_in_force(
    day: date | None = None, *, filed_only: bool = False
) -> list[tuple[Procedure, ProcedureVersion]]:
    """Every procedure with the version in force on `day` (today by default),
    documents and checklist prefetched: three queries whatever the size."""
    day = day or local_today()
    versions = (
        ProcedureVersion.objects.filter(effective_from__lte=day)
        .order_by("-effective_from")
        .prefetch_related(
            Prefetch("documents", queryset=DocumentRequirement.objects.order_by("id")),
            Prefetch("checklist", queryset=ChecklistItem.objects.order_by("id")),
        )
    )
    procedures = Procedure.objects.prefetch_related(Prefetch("versions", queryset=versions, to_attr="_versions_desc"))
    if filed_only:
        procedures = procedures.filter(files_voucher=True)
    result = []
    for procedure in procedures:
        version = procedure_version_in_force(procedure, day)
        if version is not None:
            result.append((procedure, version))
    return result


def procedures_upcoming(
    day: date | None = None, *, with_documents: bool = True
) -> list[tuple[Procedure, ProcedureVersion]]:
    """The versions already announced that come into force after `day` (today
    by default), earliest first, each with its procedure: the newer rule
    before its date. Documents and checklist prefetched unless told not to."""
    day = day or local_today()
    versions = (
        ProcedureVersion.objects.filter(effective_from__gt=day)
        .select_related("procedure")
        .order_by("effective_from", "procedure__position", "procedure__code", "procedure__mode")
    )
    if with_documents:
        versions = versions.prefetch_related(
            Prefetch("documents", queryset=DocumentRequirement.objects.order_by("id")),
            Prefetch("checklist", queryset=ChecklistItem.objects.order_by("id")),
        )
    return [(version.procedure, version) for version in versions]


def procedure_for(code: str, mode: str | None = None) -> Procedure | None:
    """The procedure a voucher files under: (code, mode) for C2-02a/NS, (code, "")
    for procedures without modes."""
    candidates = _procedures_by_code(code)  # the per-process catalogue: shared instances, read only
    exact = [p for p in candidates if p.mode == (mode or "")]
    if exact:
        return exact[0]
    plain = [p for p in candidates if p.mode == ""]
    if plain:
        return plain[0]
    if mode is None and len(candidates) == 1:
        return candidates[0]
    return None


def processing_days_for(version: ProcedureVersion, day: date) -> int:
    """Processing days for a dossier received (effectively) on `day`, including
    the peak periods of rules such as the newer one (2 days 25–31 Dec/Jan)."""
    if version.peak_processing_days and version.peak_periods:
        periods = [(str(a), str(b)) for a, b in version.peak_periods]
        return peak_processing_days(version.processing_days, version.peak_processing_days, periods, day)
    return version.processing_days


def localized(obj: object, field: str) -> str:
    """`obj.<field>_en` in English when filled, else `obj.<field>_vi`."""
    if (get_language() or "vi").startswith("en"):
        value = getattr(obj, f"{field}_en", "")
        if value:
            return value
    return getattr(obj, f"{field}_vi", "")


def requirement_condition(req: DocumentRequirement) -> str:
    if req.min_total is None:
        return _("Luôn bắt buộc")
    return _("Bắt buộc khi tổng số tiền trên %(amount)s đồng") % {"amount": format_number(req.min_total)}


def requirement_applies(req: DocumentRequirement, total: int) -> bool:
    return req.min_total is None or total > req.min_total


def required_documents(version: ProcedureVersion | None, total: int) -> list[DocumentRequirement]:
    """The documents a dossier of `total` đồng needs under `version`."""
    if version is None:
        return []
    docs = getattr(version, "_prefetched_objects_cache", {}).get("documents")
    if docs is None:
        # One version's documents in their Meta order, without its joins to the version and procedure.
        docs = list(version.documents.order_by("id"))
    return [d for d in docs if requirement_applies(d, total)]


def reason_codes(kind: str) -> QuerySet[ReasonCode]:
    return ReasonCode.objects.filter(kind=kind, is_active=True).order_by("code")


def banks():  # noqa: ANN201
    from payments.selectors.banks import banks_list

    return banks_list()


# --- the calendar -----------------------------------------------------------

CALENDAR_CACHE_KEY = "vouchers:work-calendar:v1"
CALENDAR_CACHE_SECONDS = 300


def work_calendar() -> WorkCalendar:
    """The holiday and make-up-day table as a WorkCalendar. Cached for a few
    minutes; the admin (and the seeding) drop the cache when rows change."""
    cached = cache.get(CALENDAR_CACHE_KEY)
    if cached is not None:
        holidays, makeups = cached
    else:
        holidays, makeups = [], []
        for day, kind in CalendarDay.objects.values_list("date", "kind"):
            (holidays if kind == CalendarDayKind.HOLIDAY else makeups).append(day)
        cache.set(CALENDAR_CACHE_KEY, (holidays, makeups), CALENDAR_CACHE_SECONDS)
    return WorkCalendar(holidays=frozenset(holidays), makeup_workdays=frozenset(makeups))


def work_calendar_invalidate() -> None:
    cache.delete(CALENDAR_CACHE_KEY)


def receipt_terms(procedure: Procedure, received_at: datetime, cal: WorkCalendar | None = None) -> dict:
    """For a dossier received at `received_at`: the effective receipt day, the
    version in force on it, its processing days and the due time."""
    cal = cal or work_calendar()
    day = effective_receipt_day(received_at, cal)
    version = procedure_version_in_force(procedure, day)
    if version is None:
        return {"receipt_day": day, "version": None, "processing_days": None, "due_at": None}
    days = processing_days_for(version, day)
    return {"receipt_day": day, "version": version, "processing_days": days, "due_at": due_at(received_at, days, cal)}


def voucher_due_at(*, received_at: datetime, version: ProcedureVersion, cal: WorkCalendar | None = None) -> datetime:
    cal = cal or work_calendar()
    days = processing_days_for(version, effective_receipt_day(received_at, cal))
    return due_at(received_at, days, cal)


def voucher_expected_due_at(voucher: Voucher, at: datetime | None = None) -> datetime | None:
    """The due time the voucher would get if it were submitted at `at` (now):
    a first submission counts from receipt; a resubmission after a return keeps
    the first due time, pushed by the working days the voucher spent returned."""
    at = at or timezone.now()
    cal = work_calendar()
    if voucher.status == VoucherStatus.RETURNED and voucher.due_at and voucher.returned_at:
        return extend_due_for_pause(voucher.due_at, voucher.returned_at, at, cal)
    return receipt_terms(voucher.procedure, at, cal)["due_at"]


RUNNING = frozenset({VoucherStatus.SUBMITTED, VoucherStatus.IN_CONTROL, VoucherStatus.PENDING_APPROVAL})


def due_state(voucher: Voucher, now: datetime | None = None) -> str:
    """"overdue", "near" (due within 8 hours) or "ok" for an open voucher; "" otherwise."""
    return due_state_of(voucher.status, voucher.due_at, now)


def due_state_of(status: str, due: datetime | None, now: datetime | None = None) -> str:
    if not due or status not in RUNNING:
        return ""
    now = now or timezone.now()
    if now > due:
        return "overdue"
    if due - now <= NEAR_DUE:
        return "near"
    return "ok"


# --- vouchers ---------------------------------------------------------------

LIST_RELATED = ("unit", "procedure", "controller", "approver", "created_by")


def vouchers_visible(user: User) -> QuerySet[Voucher]:
    """Unit members see all their units' vouchers; treasury staff see those of
    their offices' units once submitted (a draft is the unit's own business)."""
    if not user.is_authenticated:
        return Voucher.objects.none()
    unit_ids = [m.organisation_id for m in memberships_of(user) if m.organisation.kind == OrgKind.UNIT]
    q = Q(unit_id__in=unit_ids) if unit_ids else Q(pk__in=[])
    treasury = unit_scope_q(user, roles=set(TREASURY_ROLES))
    q |= treasury & ~Q(status=VoucherStatus.DRAFT)
    return Voucher.objects.filter(q)


def voucher_list(
    user: User, *, status: str | None = None, unit: str | None = None, procedure: str | None = None,
    fiscal_year: int | None = None,
) -> QuerySet[Voucher]:
    """The user's vouchers, newest first, with what a list row shows joined in."""
    qs = vouchers_visible(user).select_related(*LIST_RELATED)
    if status:
        qs = qs.filter(status__in=[s for s in status.split(",") if s])
    if unit:
        qs = qs.filter(unit__code=unit)
    if procedure:
        qs = qs.filter(procedure__code=procedure)
    if fiscal_year:
        qs = qs.filter(fiscal_year=fiscal_year)
    return qs.order_by("-created_at", "-id")


def lines_prefetch() -> Prefetch:
    # Lines with their budget lines joined: one query, not two. Ordered as the
    # Meta ordering orders one voucher's lines, without its join to the voucher.
    return Prefetch("lines", queryset=VoucherLine.objects.select_related("budget_line").order_by("position", "id"))


def attachments_prefetch() -> Prefetch:
    return Prefetch("attachments", queryset=Attachment.objects.order_by("id"))


def signatures_prefetch() -> Prefetch:
    return Prefetch(
        "signatures", queryset=Signature.objects.select_related("key", "signer").order_by("signed_at", "id")
    )


PERSONS = ("controller", "approver", "created_by")
# What the rules of a write read and the people the answer shows: read with the
# access check of a write (access_voucher_for_write, no lock), kept by the
# service's lock, which locks and reads the voucher's row alone
# (vouchers.policy.lock_voucher).
LOCK_RELATED = ("unit", "unit__office", "procedure", "procedure_version", "payee_bank", *PERSONS)
# And where the money comes from (C4-02a/KB, C2-03/NS only: null on most vouchers).
DETAIL_RELATED = (*LOCK_RELATED, "deposit_account", "settles")


def voucher_detail_queryset() -> QuerySet[Voucher]:
    return Voucher.objects.select_related(*DETAIL_RELATED).prefetch_related(
        lines_prefetch(), attachments_prefetch(), signatures_prefetch()
    )


def set_prefetched(voucher: Voucher, name: str, rows: list) -> None:
    """Store `rows` as the prefetched relation `name` of `voucher`, exactly what
    prefetch_related would have read: for rows a service has just written or
    read under the voucher's lock, so nobody reads them again."""
    qs = getattr(voucher, name).get_queryset()  # the cached queryset when prefetched (not evaluated otherwise)
    qs._result_cache = list(rows)
    qs._prefetch_done = True
    if not hasattr(voucher, "_prefetched_objects_cache"):
        voucher._prefetched_objects_cache = {}
    voucher._prefetched_objects_cache[name] = qs


def voucher_detail_complete(voucher: Voucher, *, known: Iterable[User] = ()) -> Voucher:
    """What `voucher_detail_queryset` reads, for a voucher a service has just
    locked and written (or created): only the relations not already in memory
    are read, at most one query each, the people in one (`known` users, such as
    the request's, are not read again). The API answers a write from it instead
    of reading the whole voucher again (11 joins and 3 prefetches)."""
    users = {u.pk: u for u in known}
    wanted: set[int] = set()
    for name in PERSONS:
        field = Voucher._meta.get_field(name)
        pk = getattr(voucher, field.attname)
        if pk is not None and not field.is_cached(voucher):
            if pk in users:
                field.set_cached_value(voucher, users[pk])
            else:
                wanted.add(pk)
    if wanted:
        users.update(User.objects.only("id", "username", "first_name", "last_name").in_bulk(wanted))
        for name in PERSONS:
            field = Voucher._meta.get_field(name)
            if not field.is_cached(voucher) and getattr(voucher, field.attname) is not None:
                field.set_cached_value(voucher, users[getattr(voucher, field.attname)])
    missing: list = [name for name in DETAIL_RELATED if name not in PERSONS and not _fk_loaded(voucher, name)]
    cached = getattr(voucher, "_prefetched_objects_cache", {})
    missing += [p for p in (lines_prefetch(), attachments_prefetch(), signatures_prefetch())
                if p.prefetch_through not in cached]
    if missing:
        prefetch_related_objects([voucher], *missing)
    return voucher


def _fk_loaded(obj: object, path: str) -> bool:
    """Whether the forward relation `path` ("unit__office") is in memory (or null)."""
    for name in path.split("__"):
        field = obj._meta.get_field(name)  # type: ignore[attr-defined]
        if getattr(obj, field.attname) is None:
            return True
        if not field.is_cached(obj):
            return False
        obj = field.get_cached_value(obj)
    return True


def access_voucher(user: User, pk: int, *, detail: bool = True) -> Voucher:
    """The voucher if the user may see it; 404 otherwise (never 403)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    base = voucher_detail_queryset() if detail else Voucher.objects.select_related("unit", "procedure")
    voucher = base.filter(pk=pk).filter(pk__in=vouchers_visible(user).values("pk")).first()
    if voucher is None:
        raise NotFound()
    return voucher


class VoucherForWrite:
    """A voucher a user asks to write, by id: the service's lock
    (`policy.lock_voucher`) reads and locks its row, with the parents its writes
    read (LOCK_RELATED), only if the user may see it (`vouchers_visible`), in one
    `SELECT … FOR UPDATE OF self`; 404 otherwise (never 403). The access check
    and the lock are one statement instead of two reads of the same row."""

    __slots__ = ("pk", "user")

    def __init__(self, user: User, pk: int) -> None:
        try:
            self.pk = int(pk)
        except (TypeError, ValueError):
            raise NotFound() from None
        self.user = user

    def lock(self) -> Voucher:
        voucher = (
            Voucher.objects.select_related(*LOCK_RELATED).select_for_update(of=("self",))
            .filter(pk=self.pk).filter(pk__in=vouchers_visible(self.user).values("pk")).first()
        )
        if voucher is None:
            raise NotFound()
        return voucher


def access_voucher_for_write(user: User, pk: int) -> Voucher:
    """The voucher with the parents its writes read (LOCK_RELATED) if the user
    may see it; 404 otherwise. Not locked: the service locks the voucher's row
    alone and keeps these parents (treasury_portal.workflow.keep_parents)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    voucher = (
        Voucher.objects.select_related(*LOCK_RELATED).filter(pk=pk).filter(pk__in=vouchers_visible(user).values("pk"))
        .first()
    )
    if voucher is None:
        raise NotFound()
    return voucher


def access_attachment(user: User, voucher_pk: int, attachment_pk: int):  # noqa: ANN201
    voucher = access_voucher(user, voucher_pk, detail=False)
    attachment = voucher.attachments.filter(pk=attachment_pk).first()
    if attachment is None:
        raise NotFound()
    return attachment


# Oldest due first; NULLs last on every backend (PostgreSQL's default; SQLite's is first).
REVIEW_QUEUE_ORDERING = (F("due_at").asc(nulls_last=True), "id")
# What each treasury role's queue holds (review_queue).
QUEUE_STATUSES = {
    Role.CONTROL_OFFICER: (VoucherStatus.SUBMITTED, VoucherStatus.IN_CONTROL),
    Role.APPROVER: (VoucherStatus.PENDING_APPROVAL,),
}


def review_queue(
    user: User,
    *,
    unit: str | None = None,
    procedure: str | None = None,
    status: str | None = None,
    due_before: datetime | date | None = None,
    mine: bool = False,
) -> QuerySet[Voucher]:
    """Officers: submitted and in-control vouchers of their offices' units;
    approvers: those pending approval. Oldest due first."""
    q = Q(pk__in=[])
    # Both roles are treasury roles: scoped by the voucher's office, which the
    # queues' partial indexes carry (voucher_control_queue, voucher_approval_queue).
    for role, statuses in QUEUE_STATUSES.items():
        q |= office_scope_q(user, roles={role}) & Q(status__in=statuses)
    qs = Voucher.objects.filter(q).select_related(*LIST_RELATED)
    if unit:
        qs = qs.filter(unit__code=unit)
    if procedure:
        qs = qs.filter(procedure__code=procedure)
    if status:
        qs = qs.filter(status__in=[s for s in status.split(",") if s])
    if due_before:
        if isinstance(due_before, datetime):
            qs = qs.filter(due_at__lte=due_before)
        else:
            qs = qs.filter(due_at__date__lte=due_before)
    if mine:
        qs = qs.filter(held_by_q(user) | Q(status=VoucherStatus.PENDING_APPROVAL))
    return qs.order_by(*REVIEW_QUEUE_ORDERING)


# The columns of a list row (vouchers.serializers.LIST_COLUMNS, the names
# `.values()` gives them) as review_queue_rows selects them: the voucher's own
# columns, and its unit's, procedure's and controller's as scalar subqueries by
# primary key. With joins PostgreSQL plans a five-relation query on every page
# (~0.66 ms of planning, against ~0.31 ms this way, for ~0.15 ms more execution).
_QUEUE_ROW_COLUMNS = (
    ("id", "v.id"), ("number", "v.number"),
    ("unit__code", "(SELECT o.code FROM {org} o WHERE o.id = v.unit_id)"),
    ("unit__name", "(SELECT o.name FROM {org} o WHERE o.id = v.unit_id)"),
    ("procedure__code", "(SELECT p.code FROM {procedure} p WHERE p.id = v.procedure_id)"),
    ("mode", "v.mode"), ("fiscal_year", "v.fiscal_year"), ("description", "v.description"),
    ("payee_name", "v.payee_name"), ("status", "v.status"), ("total_amount", "v.total_amount"),
    ("receipt_number", "v.receipt_number"), ("received_at", "v.received_at"), ("due_at", "v.due_at"),
    ("return_count", "v.return_count"), ("controller_id", "v.controller_id"),
    ("controller__username", "(SELECT c.username FROM {user} c WHERE c.id = v.controller_id)"),
    ("controller__first_name", "(SELECT c.first_name FROM {user} c WHERE c.id = v.controller_id)"),
    ("controller__last_name", "(SELECT c.last_name FROM {user} c WHERE c.id = v.controller_id)"),
    ("created_at", "v.created_at"), ("updated_at", "v.updated_at"),
)
_QUEUE_DATETIMES = ("received_at", "due_at", "created_at", "updated_at")


def _marks(values: list | tuple) -> str:
    return ", ".join(["%s"] * len(values))


def review_queue_rows(
    user: User,
    *,
    unit: str | None = None,
    procedure: str | None = None,
    status: str | None = None,
    due_before: datetime | date | None = None,
    mine: bool = False,
    after: tuple[datetime | None, int] | None = None,
    backwards: bool = False,
    limit: int = 51,
) -> list[dict]:
    """One cursor page of `review_queue(user, …)` with the same filters: the
    first `limit` vouchers after `after` (the (due_at, id) of the row the page
    follows) in the queue's order, or before it walking back when `backwards`,
    as dicts keyed like `.values(*LIST_COLUMNS)`.

    The API's queue is the busiest list of the treasury side, and the ORM spent
    ~1.7 ms of Python composing and compiling its page on every request (the
    office scope twice, 21 columns through three relations) against ~0.5 ms of
    PostgreSQL running it. This is the same statement written once: the scope
    is the same office lists (offices_in_scope, read with the memberships) and
    statuses as review_queue's, every value is a parameter, and the ids of the
    page come from the queue's partial indexes in a subquery, as before.
    review_queue stays the definition (numbered pages, the HTML page, the
    counts); vouchers/tests/test_queue_rows.py proves the two give the same rows
    for every filter, role and cursor."""
    params: list = []
    scopes = []
    for role, statuses in QUEUE_STATUSES.items():
        offices = offices_in_scope(user, roles={role})
        if offices:
            scopes.append(f"(w.office_id IN ({_marks(offices)}) AND w.status IN ({_marks(statuses)}))")
            params += [*offices, *statuses]
    if not scopes:
        return []
    conn = connections[router.db_for_read(Voucher)]
    adapt = conn.ops.adapt_datetimefield_value
    where = ["(" + " OR ".join(scopes) + ")"]
    if unit:
        where.append(f"w.unit_id IN (SELECT o.id FROM {_table(Organisation)} o WHERE o.code = %s)")  # noqa: S608
        params.append(unit)
    if procedure:
        where.append(f"w.procedure_id IN (SELECT p.id FROM {_table(Procedure)} p WHERE p.code = %s)")  # noqa: S608
        params.append(procedure)
    if status:
        wanted = [s for s in status.split(",") if s]
        if not wanted:
            return []
        where.append(f"w.status IN ({_marks(wanted)})")
        params += wanted
    if due_before:
        if isinstance(due_before, datetime):
            where.append("w.due_at <= %s")
            params.append(adapt(due_before))
        else:  # the whole local day (review_queue: due_at__date__lte)
            where.append("w.due_at < %s")
            params.append(adapt(timezone.make_aware(datetime.combine(due_before + timedelta(days=1), time.min))))
    if mine:
        # held_by_q: their own, and those of the officers away today who named them delegate.
        where.append(
            f"(w.controller_id = %s OR w.controller_id IN (SELECT a.user_id FROM {_table(Absence)} a "  # noqa: S608
            "WHERE a.delegate_id = %s AND a.role = %s AND a.cancelled_at IS NULL AND a.starts_on <= %s "
            "AND a.ends_on >= %s) OR w.status = %s)"
        )
        today = timezone.localdate()
        params += [user.pk, user.pk, Role.CONTROL_OFFICER.value, today, today, VoucherStatus.PENDING_APPROVAL]
    if after is not None:
        # KeysetPagination._after for an ascending (due_at, id) with NULLs last.
        value, pk = after
        if value is None:
            where.append("(w.due_at IS NULL AND w.id < %s OR w.due_at IS NOT NULL)" if backwards
                         else "w.due_at IS NULL AND w.id > %s")
            params.append(pk)
        else:
            where.append("(w.due_at, w.id) < (%s, %s)" if backwards
                         else "((w.due_at, w.id) > (%s, %s) OR w.due_at IS NULL)")
            params += [adapt(value), pk]
    order = "{0}.due_at DESC NULLS FIRST, {0}.id DESC" if backwards else "{0}.due_at ASC NULLS LAST, {0}.id ASC"
    voucher = _table(Voucher)
    sql = (
        f"SELECT {_queue_row_columns()} FROM {voucher} v WHERE v.id IN ("  # noqa: S608 - identifiers from model metadata
        f"SELECT w.id FROM {voucher} w WHERE {' AND '.join(where)} ORDER BY {order.format('w')} LIMIT %s"
        f") ORDER BY {order.format('v')}"
    )
    params.append(limit)
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [dict(zip(_QUEUE_ROW_KEYS, row, strict=True)) for row in cursor.fetchall()]
    if conn.vendor != "postgresql":  # SQLite gives timestamps of raw queries as text
        for row in rows:
            for key in _QUEUE_DATETIMES:
                row[key] = db_datetime(row[key])
    return rows


_QUEUE_ROW_KEYS = tuple(key for key, _expr in _QUEUE_ROW_COLUMNS)


def _table(model: type) -> str:
    return f'"{model._meta.db_table}"'


@functools.cache
def _queue_row_columns() -> str:
    tables = {"org": _table(Organisation), "procedure": _table(Procedure), "user": _table(User)}
    return ", ".join(f'{expr.format(**tables)} AS "{key}"' for key, expr in _QUEUE_ROW_COLUMNS)


def queue_profile(user: User, now: datetime | None = None) -> dict[str, int]:
    """The whole queue in one aggregate: by status (submitted, the user's own
    in control, pending approval) and by due state (overdue, due within 8
    hours, later). The home page and the queue's chart read it."""
    now = now or timezone.now()
    return review_queue(user).order_by().aggregate(
        total=Count("pk"),
        submitted=Count("pk", filter=Q(status=VoucherStatus.SUBMITTED)),
        mine=Count("pk", filter=Q(status=VoucherStatus.IN_CONTROL) & held_by_q(user)),
        pending=Count("pk", filter=Q(status=VoucherStatus.PENDING_APPROVAL)),
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        soon=Count("pk", filter=Q(due_at__gte=now, due_at__lte=now + NEAR_DUE)),
        later=Count("pk", filter=Q(due_at__gt=now + NEAR_DUE)),
    )


def voucher_timeline(voucher: Voucher) -> QuerySet[VoucherEvent]:
    return VoucherEvent.objects.filter(voucher=voucher).select_related("actor").order_by("created_at", "id")


def voucher_holder(voucher: Voucher) -> dict:
    """Who holds the voucher now (the "no hassles" promise): a side and a person."""
    status = voucher.status
    if status in EDITABLE_STATUSES:
        return {"side": "unit", "user": None}
    if status == VoucherStatus.SUBMITTED:
        return {"side": "treasury", "user": None}
    if status == VoucherStatus.IN_CONTROL:
        return {"side": "treasury", "user": voucher.controller}
    if status == VoucherStatus.PENDING_APPROVAL:
        return {"side": "treasury", "user": None, "role": Role.APPROVER}
    if status in (VoucherStatus.APPROVED, VoucherStatus.PAYMENT_FAILED):
        return {"side": "treasury", "user": voucher.approver}
    return {"side": "", "user": None}


# --- signable content and signatures ----------------------------------------


def _related(voucher: Voucher, name: str, *joins: str) -> list:
    """A prefetched relation as is; otherwise one query with its joins."""
    if name in getattr(voucher, "_prefetched_objects_cache", {}):
        return list(getattr(voucher, name).all())
    return list(getattr(voucher, name).select_related(*joins)) if joins else list(getattr(voucher, name).all())


def voucher_signable_content(voucher: Voucher, *, lines: list | None = None, attachments: list | None = None) -> dict:
    """What the signatures bind: everything that decides where money goes and
    why, attachments by their SHA-256. The content hash is the SHA-256 of its
    RFC 8785 canonical JSON. `lines`/`attachments` given: a voucher being
    created, hashed before it is written (no query)."""
    rows = lines if lines is not None else _related(voucher, "lines", "budget_line")
    files = attachments if attachments is not None else voucher.attachments.all()
    lines = []
    for line in sorted(rows, key=lambda x: (x.position, x.pk or 0)):
        bl = line.budget_line
        lines.append(
            {
                "budget_line": {
                    "id": bl.pk, "chapter": bl.chapter, "sector": bl.sector, "ndkt": bl.ndkt,
                    "funding_source": bl.funding_source, "programme": bl.programme, "budget_level": bl.budget_level,
                },
                "amount": line.amount,
                "description": line.description,
            }
        )
    attachments = sorted(
        (
            {"kind": a.kind, "name": a.original_name, "sha256": a.sha256, "size": a.size}
            for a in files
        ),
        key=lambda a: (a["kind"], a["sha256"], a["name"]),
    )
    return {
        "schema": "kbnn.voucher/1",
        "number": voucher.number,
        "unit": voucher.unit.code,
        "procedure": voucher.procedure.code,
        "mode": voucher.mode,
        "fiscal_year": voucher.fiscal_year,
        "description": voucher.description,
        "payee": {
            "name": voucher.payee_name,
            "account_number": voucher.payee_account,
            "bank_code": voucher.payee_bank.code if voucher.payee_bank_id else "",
        },
        "deposit_account": voucher.deposit_account.number if voucher.deposit_account_id else None,
        "settles": voucher.settles.number if voucher.settles_id else None,
        "contract": {"number": voucher.contract_number, "value": voucher.contract_value},
        "total_amount": voucher.total_amount,
        "lines": lines,
        "attachments": attachments,
    }


def voucher_content_hash(voucher: Voucher, *, lines: list | None = None, attachments: list | None = None) -> str:
    return content_hash(voucher_signable_content(voucher, lines=lines, attachments=attachments))


def live_signatures(voucher: Voucher) -> dict[str, Signature]:
    return {s.role: s for s in voucher.signatures.all() if s.voided_at is None}


def signature_check(signature: Signature, current_hash: str) -> dict:
    key = signature.key
    try:
        raw = crypto.decode_public_key(key.public_key)
        message = bytes.fromhex(signature.content_hash)
        cryptographically_valid = crypto.verify_signature(raw, message, signature.signature)
    except ValueError:
        cryptographically_valid = False
    matches = signature.content_hash == current_hash
    return {
        "id": signature.pk,
        "role": signature.role,
        "signer": signature.signer.get_full_name() or signature.signer.username,
        "signer_id": signature.signer_id,
        "key_id": key.pk,
        "key_fingerprint": key.fingerprint,
        "key_status": key.status,
        "content_hash": signature.content_hash,
        "signature": signature.signature,
        "signed_at": signature.signed_at,
        "voided_at": signature.voided_at,
        "matches_current_content": matches,
        "cryptographically_valid": cryptographically_valid,
        "valid": bool(cryptographically_valid and matches and signature.voided_at is None),
    }


def signature_checks(voucher: Voucher, *, include_voided: bool = False) -> list[dict]:
    """Each signature verified now against the content as it is now (anyone who
    may see the voucher may verify it)."""
    current = voucher_content_hash(voucher)
    return [
        signature_check(s, current)
        for s in voucher.signatures.all()
        if include_voided or s.voided_at is None
    ]


def signatures_status(voucher: Voucher) -> dict[str, dict | None]:
    """Per signing role: the live signature's check, or None when missing."""
    checks = {c["role"]: c for c in signature_checks(voucher)}
    return {role.value: checks.get(role.value) for role in SIGNATURE_ROLES}


# --- documents, preflight, changes ------------------------------------------


def voucher_version_for_rules(voucher: Voucher) -> ProcedureVersion | None:
    """The version whose rules apply: the one recorded at receipt, else the one
    that would be in force if submitted now."""
    if voucher.procedure_version_id:
        return voucher.procedure_version
    return receipt_terms(voucher.procedure, timezone.now())["version"]


def voucher_documents(voucher: Voucher, version: ProcedureVersion | None = None) -> list[dict]:
    """Each required document and whether an attachment of that kind is present."""
    version = version or voucher_version_for_rules(voucher)
    present = {a.kind for a in voucher.attachments.all()}
    labels = dict(DocumentKind.choices)
    return [
        {
            "kind": req.kind,
            "label": str(labels.get(req.kind, req.kind)),
            "condition": requirement_condition(req),
            "note": localized(req, "note"),
            "present": req.kind in present,
        }
        for req in required_documents(version, voucher.total_amount)
    ]


def voucher_missing_documents(voucher: Voucher, version: ProcedureVersion | None = None) -> list[dict]:
    return [d for d in voucher_documents(voucher, version) if not d["present"]]


def voucher_rule_problems(voucher: Voucher) -> list[str]:
    """Cross-field rules checked again at submission (one sentence each)."""
    problems = []
    lines_total = sum(line.amount for line in voucher.lines.all())
    if not voucher.lines.all():
        problems.append(_("Chứng từ chưa có dòng chi nào."))
    elif lines_total != voucher.total_amount:
        problems.append(_("Tổng các dòng không bằng tổng số tiền của chứng từ."))
    if voucher.mode == "advance" and voucher.total_amount > ADVANCE_CONTRACT_THRESHOLD:
        if not voucher.contract_value:
            problems.append(
                _("Tạm ứng trên 50.000.000 đồng phải có hợp đồng: hãy nhập số và giá trị hợp đồng.")
            )
        elif voucher.total_amount * 2 > voucher.contract_value:
            problems.append(
                _("Tạm ứng trên 50.000.000 đồng không được vượt quá 50%% giá trị hợp đồng (%(limit)s đồng).")
                % {"limit": f"{voucher.contract_value // 2:,}".replace(",", ".")}
            )
    return problems


def voucher_preflight(voucher: Voucher) -> dict:
    """What the drafting unit needs to know before submitting: budget headroom
    per line, missing documents, signatures, the expected due time, and any
    other rule the submission would refuse."""
    from payments.selectors.budget import budget_line_usage_after
    from payments.services.budget import voucher_budget_target, voucher_reservation

    now = timezone.now()
    target = voucher_budget_target(voucher)
    held = voucher_reservation(voucher) if voucher.status != VoucherStatus.DRAFT else {}
    budget = []
    seen: set[int] = set()
    for line in voucher.lines.all():
        bl = line.budget_line
        if bl.pk in seen:
            continue
        seen.add(bl.pk)
        requested = target.get(bl.pk, 0)
        delta = requested - held.get(bl.pk, 0)
        usage = budget_line_usage_after(bl, max(delta, 0)) if target else None
        budget.append(
            {
                "budget_line": bl.pk,
                "classification": bl.classification,
                "ndkt": bl.ndkt,
                "name": bl.name,
                "allocated": bl.allocated,
                "available": bl.available,
                "requested": requested,
                "available_after": usage["available"] if usage else bl.available,
                "percent_after": usage["percent"] if usage else None,
                "level": usage["level"] if usage else "",
                "fits": usage["fits"] if usage else True,
            }
        )
    terms = receipt_terms(voucher.procedure, now) if voucher.status != VoucherStatus.RETURNED else None
    if voucher.status in EDITABLE_STATUSES:
        expected = voucher_expected_due_at(voucher, now)
    else:
        expected = voucher.due_at
    documents = voucher_documents(voucher)
    signatures = signatures_status(voucher)
    problems = voucher_rule_problems(voucher)
    deposit = None
    if voucher.deposit_account_id:
        account = voucher.deposit_account
        available = deposit_headroom(account, exclude_voucher=voucher.pk)
        deposit = {
            "account": account.number, "balance": account.balance, "committed": account.balance - available,
            "available": available, "fits": available >= voucher.total_amount,
        }
        if not deposit["fits"]:
            problems.append(_("Số dư tài khoản tiền gửi không đủ để chi."))
    if voucher.settles_id:
        outstanding = voucher.settles.total_amount - voucher.settles.settled_amount
        if voucher.total_amount > outstanding:
            problems.append(_("Số tiền thanh toán tạm ứng vượt số tạm ứng còn phải thanh toán."))
    missing = [d for d in documents if not d["present"]]
    signatures_ok = all(s and s["valid"] for s in signatures.values())
    budget_ok = all(b["fits"] for b in budget)
    return {
        "budget": budget,
        "budget_ok": budget_ok,
        "deposit": deposit,
        "documents": documents,
        "missing_documents": missing,
        "signatures": signatures,
        "signatures_ok": signatures_ok,
        "expected_due_at": expected,
        "processing_days": terms["processing_days"] if terms else None,
        "procedure_version": terms["version"].pk if terms and terms["version"] else voucher.procedure_version_id,
        "problems": problems,
        "ready": bool(budget_ok and not missing and signatures_ok and not problems),
    }


def outstanding_advances(unit_id: int) -> QuerySet[Voucher]:
    """Paid advances of the unit not yet fully settled (what C2-03/NS settles)."""
    from django.db.models import F

    return Voucher.objects.filter(
        unit_id=unit_id, mode="advance", status=VoucherStatus.PAID, settled_amount__lt=F("total_amount")
    ).order_by("created_at", "id")


def _flatten(value: object, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        if not value:
            out[prefix] = []
        return out
    return {prefix: value}


def content_diff(before: dict, after: dict) -> list[dict]:
    """Field-by-field differences of two signable contents; attachments are
    compared as a set (added / removed by SHA-256)."""
    before = dict(before)
    after = dict(after)
    changes: list[dict] = []
    old_att = {a["sha256"]: a for a in before.pop("attachments", [])}
    new_att = {a["sha256"]: a for a in after.pop("attachments", [])}
    flat_before, flat_after = _flatten(before), _flatten(after)
    for field in sorted(set(flat_before) | set(flat_after)):
        if flat_before.get(field) != flat_after.get(field):
            changes.append({"field": field, "before": flat_before.get(field), "after": flat_after.get(field)})
    for sha in sorted(set(new_att) - set(old_att)):
        changes.append({"field": "attachments", "before": None, "after": new_att[sha]})
    for sha in sorted(set(old_att) - set(new_att)):
        changes.append({"field": "attachments", "before": old_att[sha], "after": None})
    return changes


def last_return_event(voucher: Voucher) -> VoucherEvent | None:
    return VoucherEvent.objects.filter(voucher=voucher, action="return").order_by("-created_at", "-id").first()


def voucher_changes_since_return(voucher: Voucher) -> list[dict]:
    """What the unit changed after the last return (empty if never returned)."""
    event = last_return_event(voucher)
    if event is None or "snapshot" not in event.data:
        return []
    return content_diff(event.data["snapshot"], voucher_signable_content(voucher))


# --- who may do what ---------------------------------------------------------

def voucher_allowed_actions(user: User, voucher: Voucher) -> set[str]:
    """The actions the user may start on the voucher now (the buttons): the
    same checks the services run (vouchers.policy, one per action)."""
    from vouchers import policy

    return policy.allowed_actions(user, voucher)


# --- hand-over and escalation -------------------------------------------------


def held_by_q(user: User, day: date | None = None) -> Q:
    """Whose vouchers in control are the user's queue (a filter on the controller):
    their own, and those of the control officers away on `day` (today) who named
    them delegate (accounts.Absence), as a subquery."""
    away = active_absences(day).filter(delegate_id=user.pk, role=Role.CONTROL_OFFICER).values("user_id")
    return Q(controller_id=user.pk) | Q(controller_id__in=away)


def delegate_excluded(voucher: Voucher) -> set[int]:
    """Who may not take the voucher over as a delegate (segregation of duties):
    whoever prepared or signed it, and its approver."""
    excluded = {voucher.created_by_id}
    excluded |= set(Signature.objects.filter(voucher=voucher).values_list("signer_id", flat=True))
    if voucher.approver_id:
        excluded.add(voucher.approver_id)
    return excluded


def holder_absence(voucher: Voucher, day: date | None = None):  # noqa: ANN201
    """The running absence of the voucher's controller (accounts.Absence, with its delegate), if any."""
    if voucher.status != VoucherStatus.IN_CONTROL:
        return None
    return delegate_of(voucher.controller_id, Role.CONTROL_OFFICER, day)


def holds(user: User, voucher: Voucher, day: date | None = None) -> bool:
    """The user acts on the voucher as its holder: its controller, or the delegate
    of its controller away today, unless segregation of duties excludes them."""
    if voucher.controller_id is None:
        return False
    if voucher.controller_id == user.pk:
        return True
    absence = delegate_of(voucher.controller_id, Role.CONTROL_OFFICER, day)
    return absence is not None and absence.delegate_id == user.pk and user.pk not in delegate_excluded(voucher)


def _handover_excluded(voucher: Voucher, actor: User) -> set[int]:
    """Who may not receive the voucher (segregation of duties): the leader handing
    it over, whoever prepared or signed it, and its approver."""
    excluded = {actor.pk, voucher.created_by_id}
    excluded |= set(Signature.objects.filter(voucher=voucher).values_list("signer_id", flat=True))
    if voucher.approver_id:
        excluded.add(voucher.approver_id)
    return excluded


def reassign_candidates(voucher: Voucher, actor: User) -> list[User]:
    """The control officers a leader may hand the voucher to: those of the unit's
    office or an office above, except its current controller and the excluded."""
    excluded = _handover_excluded(voucher, actor) | {voucher.controller_id}
    return [u for u in treasury_staff_over(voucher.unit, Role.CONTROL_OFFICER) if u.pk not in excluded]


def reassign_target_check(voucher: Voucher, actor: User, officer: User | None) -> None:
    """Raise why `officer` may not receive the voucher from `actor` (the service's
    rule; the form offers only reassign_candidates)."""
    if officer is None or not officer.is_active or not user_has_treasury_role_over(
        officer, voucher.unit, Role.CONTROL_OFFICER
    ):
        raise ValidationFailed(
            _("Người nhận phải là cán bộ kiểm soát của kho bạc quản lý đơn vị này."),
            fields={"officer": [_("Không phải cán bộ kiểm soát của kho bạc này.")]},
        )
    if officer.pk in _handover_excluded(voucher, actor):
        raise ApplicationError(
            "same_person",
            _(
                "Không thể giao chứng từ cho người đã lập, đã ký, sẽ phê duyệt chứng từ này "
                "hoặc cho chính người giao."
            ),
        )


ESCALATION_STATES = ("overdue", "near")


def escalation_key(voucher: Voucher, state: str) -> str:
    """One escalation per voucher, due time and state (a resubmission's new due time escalates anew)."""
    return f"{state}:{voucher.due_at.isoformat() if voucher.due_at else ''}"


def escalation_candidates(now: datetime | None = None) -> QuerySet[Voucher]:
    """Running vouchers overdue or due within NEAR_DUE (due_state "overdue"/"near"),
    oldest due first: the scheduled escalation's work list."""
    now = now or timezone.now()
    return Voucher.objects.filter(status__in=RUNNING, due_at__lte=now + NEAR_DUE).order_by("due_at", "id")


def escalated_vouchers(user: User, now: datetime | None = None) -> QuerySet[Voucher]:
    """For a leader: the running vouchers of their offices that were escalated and
    are still overdue or due within NEAR_DUE, oldest due first."""
    now = now or timezone.now()
    escalated = VoucherEvent.objects.filter(voucher=OuterRef("pk"), action="escalate")
    return (
        Voucher.objects.filter(
            office_scope_q(user, roles={Role.APPROVER}), status__in=RUNNING, due_at__lte=now + NEAR_DUE,
        )
        .filter(Exists(escalated))
        .select_related(*LIST_RELATED)
        .order_by(*REVIEW_QUEUE_ORDERING)
    )


# --- a deposit account's headroom -------------------------------------------------------


def deposits_committed(account_ids: Iterable[int], *, exclude_voucher: int | None = None) -> dict[int, int]:
    """What open payment orders (C4-02a/KB vouchers submitted, in control,
    pending approval, approved or failed to pay) already claim of each deposit
    account, by account id (an account without any: absent). One query. The one
    home of "committed": the voucher's submission and preflight and the autopay
    run (autopay) all ask here."""
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
