"""Reads of the state budget revenue: an office's treasury staff see the
collections of their office and of the offices below it
(accounts.selectors.offices_in_scope); nobody else sees any."""

from datetime import date

from django.db.models import QuerySet

from accounts.models import TREASURY_ROLES, User
from accounts.selectors import offices_in_scope
from payments.models import RevenueCollection


def revenue_visible(user: User) -> QuerySet[RevenueCollection]:
    if not user.is_authenticated:
        return RevenueCollection.objects.none()
    offices = offices_in_scope(user, roles=set(TREASURY_ROLES))
    return RevenueCollection.objects.filter(office_id__in=offices) if offices else RevenueCollection.objects.none()


def revenue_list(
    user: User, *, office: str | None = None, date_from: date | None = None, date_to: date | None = None,
    budget_level: str | None = None, chapter: str | None = None, ndkt: str | None = None,
    source: str | None = None, reference: str | None = None,
) -> QuerySet[RevenueCollection]:
    """The visible collections, newest first, filtered (each filter optional;
    `office` is one office and those below it)."""
    qs = revenue_visible(user).select_related("office")
    if office:
        qs = qs.filter(office__path__startswith=_office_path(user, office))
    if date_from:
        qs = qs.filter(collected_on__gte=date_from)
    if date_to:
        qs = qs.filter(collected_on__lte=date_to)
    for name, value in (("budget_level", budget_level), ("chapter", chapter), ("ndkt", ndkt), ("source", source),
                        ("reference", reference)):
        if value:
            qs = qs.filter(**{name: value})
    return qs.order_by("-created_at", "-id")


def _office_path(user: User, code: str) -> str:
    from accounts.selectors import visible_offices
    from treasury_portal.errors import NotFound

    office = visible_offices(user).filter(code=code).first()
    if office is None:
        raise NotFound()
    return office.path
