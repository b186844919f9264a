"""Who may see what. Every query for organisation-owned data is scoped here.

Unit members see their units; treasury staff see their office, the offices
below it and those offices' units; supplier clerks see their supplier.
"""

from datetime import UTC, date, datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import (
    ABSENCE_ROLES,
    SIGNER_ROLES,
    TREASURY_ROLES,
    Absence,
    ApiToken,
    Membership,
    MembershipEvent,
    Organisation,
    OrgKind,
    Role,
    SigningKey,
    SigningKeyStatus,
    User,
)
from treasury_portal.errors import NotFound


def raw_columns(model: type, alias: str, prefix: str = "") -> str:
    """`alias.column AS prefixcolumn, …` for every concrete field of `model`, so
    a raw query stays in step with the model's fields."""
    return ", ".join(f'{alias}."{f.column}" AS "{prefix}{f.column}"' for f in model._meta.concrete_fields)


def db_datetime(value: Any) -> datetime | None:
    """A timestamp selected as an extra column of a raw query: PostgreSQL gives
    an aware datetime, SQLite (Django's converters skip extra columns) a naive
    UTC one or text."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


# Every page and API call reads the user's memberships first. The ORM compiles
# this two-table select anew on every request (~1 ms of Python); as a raw query
# through Organisation.objects.raw() (which still applies the backend's value
# converters, e.g. SQLite's datetimes) it costs a tenth of that.
# Identifiers come from the models' metadata; the values are parameters.
_MEMBERSHIPS_SQL = (
    f"SELECT {raw_columns(Organisation, 'o')}, "  # noqa: S608
    'm."id" AS "m_id", m."role" AS "m_role", m."created_at" AS "m_created_at", '
    # A treasury office's transaction offices at or below it (office_scope_q),
    # read here rather than in a query of their own: the few hundred offices
    # through the kind index, compared by path prefix (substr: PostgreSQL and SQLite).
    f'CASE WHEN o."kind" = %s THEN (SELECT {{agg}} FROM "{Organisation._meta.db_table}" t '
    'WHERE t."kind" = %s AND substr(t."path", 1, length(o."path")) = o."path") END AS "m_offices" '
    f'FROM "{Membership._meta.db_table}" m JOIN "{Organisation._meta.db_table}" o ON o."id" = m."organisation_id" '
    'WHERE m."user_id" = %s AND m."is_active" AND o."is_active" ORDER BY m."id"'
)
_OFFICE_ID_LIST = {"postgresql": "string_agg(t.\"id\"::text, ',')", "sqlite": "group_concat(t.\"id\", ',')"}


def memberships_of(user: User) -> list[Membership]:
    """The user's active memberships with their organisations, read once per
    request object (one query)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_portal_memberships", None)
    if cached is None:
        cached = []
        sql = _MEMBERSHIPS_SQL.replace("{agg}", _OFFICE_ID_LIST.get(connection.vendor, _OFFICE_ID_LIST["sqlite"]))
        params = [OrgKind.TREASURY_OFFICE, OrgKind.TREASURY_OFFICE, user.pk]
        for org in Organisation.objects.raw(sql, params):
            membership = Membership(
                id=org.m_id, user_id=user.pk, organisation_id=org.pk, role=org.m_role, is_active=True,
                created_at=db_datetime(org.m_created_at),
            )
            membership.offices_below = (  # type: ignore[attr-defined]
                [int(i) for i in org.m_offices.split(",") if i] if org.m_offices else []
            )
            membership._state.adding = False
            membership._state.db = org._state.db
            Membership.organisation.field.set_cached_value(membership, org)
            Membership.user.field.set_cached_value(membership, user)
            cached.append(membership)
        user._portal_memberships = cached  # type: ignore[attr-defined]
    return cached


def roles_of(user: User) -> set[str]:
    return {m.role for m in memberships_of(user)}


def has_role(user: User, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_treasury_staff(user: User) -> bool:
    return has_role(user, *TREASURY_ROLES)


def is_treasury_admin(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or has_role(user, Role.ADMINISTRATOR))


def requires_mfa(user: User) -> bool:
    """Treasury staff and unit signers must use a second factor."""
    return user.is_superuser or has_role(user, *(TREASURY_ROLES | SIGNER_ROLES))


def organisations_with_role(user: User, *roles: str) -> list[Organisation]:
    return [m.organisation for m in memberships_of(user) if m.role in roles]


def _office_paths(user: User, roles: frozenset[str] | set[str] = TREASURY_ROLES) -> list[str]:
    return sorted({m.organisation.path for m in memberships_of(user) if m.role in roles})


def _path_q(paths: list[str], field: str) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


def unit_scope_q(user: User, *, prefix: str = "unit", roles: set[str] | None = None) -> Q:
    """A filter on `<prefix>` (a FK to a unit) limited to the units the user may
    see, optionally only through the given roles."""
    q = Q(pk__in=[])
    if not user.is_authenticated:
        return q
    mems = memberships_of(user)
    unit_ids = [
        m.organisation_id for m in mems if m.organisation.kind == OrgKind.UNIT and (roles is None or m.role in roles)
    ]
    if unit_ids:
        q |= Q(**{f"{prefix}_id__in": unit_ids})
    treasury_roles = TREASURY_ROLES if roles is None else (set(roles) & TREASURY_ROLES)
    paths = _office_paths(user, treasury_roles)
    if paths:
        q |= _path_q(paths, f"{prefix}__path")
    return q


def offices_in_scope(user: User, *, roles: set[str]) -> list[int]:
    """The ids of the transaction offices at or below those where the user holds
    one of the treasury `roles` (none for other roles). They come with the
    memberships (memberships_of: no query of their own)."""
    roles = set(roles) & TREASURY_ROLES
    mems = [m for m in memberships_of(user) if m.role in roles]
    if not mems:
        return []
    known = [getattr(m, "offices_below", None) for m in mems]
    if all(ids is not None for ids in known):  # read with the memberships (memberships_of)
        return sorted({pk for ids in known for pk in ids})
    return sorted(
        Organisation.objects.filter(_path_q(_office_paths(user, roles), "path"), kind=OrgKind.TREASURY_OFFICE)
        .order_by()
        .values_list("pk", flat=True)
    )


def office_scope_q(user: User, *, roles: set[str], field: str = "office") -> Q:
    """A filter on `<field>` (a FK to a unit's transaction office, such as
    Voucher.office) equivalent to `unit_scope_q` for treasury roles: the offices at
    or below those where the user holds one of `roles` (offices_in_scope), passed
    as a list: PostgreSQL then knows how selective they are and walks an index
    that carries the office in order (as a subquery it misjudged it and sorted
    every queued voucher of the province)."""
    offices = offices_in_scope(user, roles=roles)
    return Q(**{f"{field}__in": offices}) if offices else Q(pk__in=[])


def visible_units(user: User, *, roles: set[str] | None = None) -> QuerySet[Organisation]:
    q = Q(pk__in=[])
    if user.is_authenticated:
        mems = memberships_of(user)
        ids = [
            m.organisation_id
            for m in mems
            if m.organisation.kind == OrgKind.UNIT and (roles is None or m.role in roles)
        ]
        q |= Q(pk__in=ids)
        treasury_roles = TREASURY_ROLES if roles is None else (set(roles) & TREASURY_ROLES)
        q |= _path_q(_office_paths(user, treasury_roles), "path")
    return Organisation.objects.filter(q, kind=OrgKind.UNIT)


def visible_offices(user: User) -> QuerySet[Organisation]:
    return Organisation.objects.filter(_path_q(_office_paths(user), "path"), kind=OrgKind.TREASURY_OFFICE)


def access_unit(user: User, code: str, *, roles: set[str] | None = None) -> Organisation:
    """The unit with this code if the user may see it (with one of `roles`), else
    404. With its transaction office (a voucher's detail shows it)."""
    unit = visible_units(user, roles=roles).filter(code=code).select_related("office").first()
    if unit is None:
        raise NotFound()
    return unit


def user_has_unit_role(user: User, unit: Organisation, *roles: str) -> bool:
    return any(m.organisation_id == unit.pk and m.role in roles for m in memberships_of(user))


def user_has_treasury_role_over(user: User, unit: Organisation, *roles: str) -> bool:
    """True when the user holds one of `roles` in an office at or above the unit's."""
    return any(
        m.role in roles and m.organisation.kind == OrgKind.TREASURY_OFFICE and unit.path.startswith(m.organisation.path)
        for m in memberships_of(user)
    )


def treasury_staff_over(unit: Organisation, *roles: str) -> QuerySet[User]:
    """The active users holding one of the treasury `roles` in an active office at
    or above the unit's (the people `user_has_treasury_role_over` says yes to)."""
    parts = [p for p in unit.path.split("/") if p]
    ancestors = ["/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
    members = Membership.objects.filter(
        role__in=roles, is_active=True, organisation__kind=OrgKind.TREASURY_OFFICE, organisation__is_active=True,
        organisation__path__in=ancestors,
    )
    return User.objects.filter(is_active=True, pk__in=members.values("user_id")).order_by("last_name", "username")


def signing_keys_visible(user: User) -> QuerySet[SigningKey]:
    """A signer's own keys, and the keys of units an administrator serves."""
    q = Q(user=user)
    paths = _office_paths(user, {Role.ADMINISTRATOR})
    if paths:
        q |= _path_q(paths, "unit__path")
    return SigningKey.objects.filter(q).select_related("user", "unit", "decided_by")


def access_signing_key(user: User, key_id: int) -> SigningKey:
    key = signing_keys_visible(user).filter(pk=key_id).first()
    if key is None:
        raise NotFound()
    return key


def approved_key_for(user: User, unit: Organisation, role: str) -> SigningKey | None:
    return SigningKey.objects.filter(user=user, unit=unit, role=role, status=SigningKeyStatus.APPROVED).first()


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True)


# --- memberships managed by treasury administrators ----------------------------


def _admin_paths(user: User) -> list[str] | None:
    """The paths of the offices where the user is an administrator; None for a
    superuser (everything)."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return None
    return _office_paths(user, {Role.ADMINISTRATOR})


def manageable_organisations(user: User) -> QuerySet[Organisation]:
    """The offices and units whose memberships the user may manage: a treasury
    administrator's office, the offices below it and their units."""
    orgs = Organisation.objects.filter(kind__in=[OrgKind.TREASURY_OFFICE, OrgKind.UNIT], is_active=True)
    paths = _admin_paths(user)
    return orgs if paths is None else orgs.filter(_path_q(paths, "path"))


def can_manage_memberships(user: User, organisation: Organisation) -> bool:
    """Tells the buttons and the services whether the user may give or take
    away roles in the organisation."""
    if organisation.kind not in (OrgKind.TREASURY_OFFICE, OrgKind.UNIT) or not organisation.is_active:
        return False
    paths = _admin_paths(user)
    return paths is None or any(organisation.path.startswith(p) for p in paths)


def manageable_users(user: User) -> QuerySet[User]:
    """The people an administrator may give a role to or take one from: those
    with a membership (current or past) in an organisation they manage, and
    people with no membership anywhere yet (new accounts). People who belong
    only to other provinces' organisations, or to suppliers, stay hidden (404)."""
    paths = _admin_paths(user)
    if paths is None:
        return User.objects.filter(is_active=True)
    if not paths:
        return User.objects.none()
    in_scope = Membership.objects.filter(_path_q(paths, "organisation__path")).exclude(
        organisation__kind=OrgKind.SUPPLIER
    )
    return User.objects.filter(
        Q(pk__in=in_scope.values("user_id")) | ~Q(pk__in=Membership.objects.values("user_id")), is_active=True
    )


def can_manage_user(user: User, person: User) -> bool:
    return manageable_users(user).filter(pk=person.pk).exists()


def access_manageable_organisation(user: User, code: str) -> Organisation:
    org = manageable_organisations(user).filter(code=code).first()
    if org is None:
        raise NotFound()
    return org


def access_manageable_user(user: User, username: str) -> User:
    person = manageable_users(user).filter(username=username).first()
    if person is None:
        raise NotFound()
    return person


def memberships_managed(user: User) -> QuerySet[Membership]:
    """The active memberships in the organisations the user manages."""
    paths = _admin_paths(user)
    qs = Membership.objects.filter(
        is_active=True, organisation__kind__in=[OrgKind.TREASURY_OFFICE, OrgKind.UNIT]
    ).select_related("user", "organisation")
    if paths is not None:
        qs = qs.filter(_path_q(paths, "organisation__path"))
    return qs.order_by("organisation__code", "role", "user__last_name", "user__first_name", "id")


def access_membership(user: User, membership_id: int) -> Membership:
    membership = memberships_managed(user).filter(pk=membership_id).first()
    if membership is None:
        raise NotFound()
    return membership


def signer_places(organisation: Organisation) -> list[dict]:
    """For a unit: each signing role's people against its legal maximum."""
    from accounts.models import MAX_SIGNERS

    if organisation.kind != OrgKind.UNIT:
        return []
    held = dict(
        Membership.objects.filter(organisation=organisation, is_active=True, role__in=list(MAX_SIGNERS))
        .values_list("role")
        .annotate(n=Count("id"))
        .values_list("role", "n")
    )
    return [
        {"role": role, "label": role.label, "held": held.get(role.value, 0), "limit": limit}
        for role, limit in MAX_SIGNERS.items()
    ]


def membership_events_of(organisation: Organisation, limit: int = 20) -> QuerySet[MembershipEvent]:
    return (
        MembershipEvent.objects.filter(membership__organisation=organisation)
        .select_related("membership__user", "actor")
        .order_by("-created_at", "-id")[:limit]
    )


# --- out-of-office with a delegate (accounts.Absence) -----------------------------


def _today(day: date | None = None) -> date:
    return day or timezone.localdate()


def active_absences(day: date | None = None) -> QuerySet[Absence]:
    """The absences running on `day` (today by default): not cancelled, the day within the period."""
    day = _today(day)
    return Absence.objects.filter(cancelled_at__isnull=True, starts_on__lte=day, ends_on__gte=day)


def absent_for(user: User, role: str, day: date | None = None) -> list[int]:
    """The ids of the people whose queue `user` holds on `day` as their delegate for `role`."""
    return list(active_absences(day).filter(delegate=user, role=role).values_list("user_id", flat=True))


def delegate_of(user_id: int | None, role: str, day: date | None = None) -> Absence | None:
    """The running absence of `user_id` for `role` on `day` (with its delegate), if any."""
    if user_id is None:
        return None
    return active_absences(day).filter(user_id=user_id, role=role).select_related("delegate").first()


def _leader_offices(user: User) -> list[Organisation]:
    return [m.organisation for m in memberships_of(user)
            if m.role == Role.APPROVER and m.organisation.kind == OrgKind.TREASURY_OFFICE]


def absence_offices(user: User) -> list[tuple[Organisation, str]]:
    """The (office, role) where the user holds a role that can be away with a delegate."""
    return [(m.organisation, m.role) for m in memberships_of(user)
            if m.role in ABSENCE_ROLES and m.organisation.kind == OrgKind.TREASURY_OFFICE]


def is_leader_of(user: User, office: Organisation) -> bool:
    """An approver of the office or of an office above it."""
    return any(office.path.startswith(o.path) for o in _leader_offices(user))


def absences_visible(user: User) -> QuerySet[Absence]:
    """The user's own absences, those where they are the delegate or the one who
    declared them, and (leaders) every absence of their offices and those below."""
    q = Q(user=user) | Q(delegate=user) | Q(created_by=user)
    paths = sorted({o.path for o in _leader_offices(user)})
    if paths:
        q |= _path_q(paths, "office__path")
    return (
        Absence.objects.filter(q)
        .select_related("user", "delegate", "office", "created_by", "cancelled_by")
        .order_by("-starts_on", "-id")
    )


def access_absence(user: User, pk: int) -> Absence:
    absence = absences_visible(user).filter(pk=pk).first()
    if absence is None:
        raise NotFound()
    return absence


def can_cancel_absence(user: User, absence: Absence, day: date | None = None) -> bool:
    """The absent person, whoever declared it, or a leader of its office, while it is not cancelled or over."""
    return (
        absence.cancelled_at is None
        and absence.ends_on >= _today(day)
        and (user.pk in (absence.user_id, absence.created_by_id) or is_leader_of(user, absence.office))
    )


def absence_colleagues(user: User) -> dict[str, list[tuple[User, Organisation, str]]]:
    """Who the form offers: `people` the user may declare absent (themselves; a
    leader also the control officers and approvers of their offices), and
    `delegates`, the officers of those offices with those roles (the service
    checks the pair: same office, same role)."""
    places = {(o.pk, role) for o, role in absence_offices(user)}
    offices = {o.pk: o for o, _r in absence_offices(user)}
    for office in _leader_offices(user):
        offices[office.pk] = office
        places |= {(office.pk, role) for role in ABSENCE_ROLES}
    members = (
        Membership.objects.filter(
            is_active=True, user__is_active=True, organisation_id__in=list(offices),
            role__in=[str(r) for r in ABSENCE_ROLES],
        )
        .select_related("user", "organisation")
        .order_by("organisation__code", "role", "user__last_name", "user__username")
    )
    rows = [(m.user, m.organisation, m.role) for m in members if (m.organisation_id, m.role) in places]
    leader = {o.pk for o in _leader_offices(user)}
    people = [r for r in rows if r[0].pk == user.pk or r[1].pk in leader]
    return {"people": people, "delegates": rows}


def access_colleague(user: User, username: str, *, delegate: bool = False) -> User:
    """A person the user may name on an absence (absence_colleagues: `people`, or
    with `delegate` the possible delegates), by username; 404 for anyone else."""
    rows = absence_colleagues(user)["delegates" if delegate else "people"]
    found = next((person for person, _office, _role in rows if person.username == username), None)
    if found is None:
        raise NotFound()
    return found
