"""The one module that decides what a user may see (accounts.selectors)."""

import pytest

from accounts import crypto, selectors, services
from accounts.models import Organisation, SigningKey
from tests.factories import UnitFactory, UserFactory
from treasury_portal.errors import NotFound

pytestmark = pytest.mark.django_db


def _codes(qs) -> set[str]:  # noqa: ANN001
    return set(qs.values_list("code", flat=True))


@pytest.mark.parametrize(
    ("username", "units"),
    [
        ("a_preparer", {"1012345"}),
        ("b_holder", {"1023456"}),
        ("officer", {"1012345"}),  # 0100 sees 0101's unit
        ("tadmin_b", {"1023456"}),
        ("evn_clerk", set()),
    ],
)
def test_visible_units(world, username, units):
    assert _codes(selectors.visible_units(world.users[username])) == units


def test_a_central_office_sees_every_unit_below_it(world):
    central = UserFactory()
    services.membership_grant(user=central, organisation=world.offices["0001"], role="approver")
    assert _codes(selectors.visible_units(central)) == {"1012345", "1023456"}
    assert _codes(selectors.visible_offices(central)) == {"0001", "0100", "0101", "0200", "0201"}


def test_a_lower_office_does_not_see_its_parent_or_siblings(world):
    local = UserFactory()
    services.membership_grant(user=local, organisation=world.offices["0101"], role="control_officer")
    assert _codes(selectors.visible_offices(local)) == {"0101"}
    assert _codes(selectors.visible_units(local)) == {"1012345"}
    sibling_unit = UnitFactory(office=world.offices["0100"])  # directly under 0100, not 0101
    assert sibling_unit.code not in _codes(selectors.visible_units(local))


def test_roles_filter_narrows_visibility(world):
    holder = world.users["a_holder"]
    assert _codes(selectors.visible_units(holder, roles={"account_holder"})) == {"1012345"}
    assert _codes(selectors.visible_units(holder, roles={"preparer"})) == set()


def test_access_unit_is_404_for_other_units(world):
    assert selectors.access_unit(world.users["a_holder"], "1012345").code == "1012345"
    with pytest.raises(NotFound):
        selectors.access_unit(world.users["a_holder"], "1023456")
    with pytest.raises(NotFound):
        selectors.access_unit(world.users["evn_clerk"], "1012345")


def test_unit_scope_q_filters_rows_by_their_unit(world):
    key = services.signing_key_register(
        actor=world.users["b_holder"], unit=world.units["b"], role="account_holder",
        public_key=crypto.generate_keypair()[1],
    )
    for username, visible in [("b_preparer", True), ("officer_b", True), ("a_preparer", False), ("officer", False)]:
        q = selectors.unit_scope_q(world.users[username])
        assert SigningKey.objects.filter(q).filter(pk=key.pk).exists() is visible, username


def test_inactive_memberships_and_organisations_give_nothing(world):
    user = world.users["a_preparer"]
    user.memberships.update(is_active=False)
    user._portal_memberships = None
    assert selectors.roles_of(user) == set()
    assert _codes(selectors.visible_units(user)) == set()
    holder = world.users["a_holder"]
    Organisation.objects.filter(code="1012345").update(is_active=False)
    assert selectors.roles_of(holder) == set()


def test_has_role_helpers(world):
    assert selectors.is_treasury_staff(world.users["officer"])
    assert not selectors.is_treasury_staff(world.users["a_holder"])
    assert selectors.is_treasury_admin(world.users["tadmin"])
    assert not selectors.is_treasury_admin(world.users["approver"])
    assert selectors.user_has_treasury_role_over(world.users["tadmin"], world.units["a"], "administrator")
    assert not selectors.user_has_treasury_role_over(world.users["tadmin"], world.units["b"], "administrator")
    assert selectors.user_has_unit_role(world.users["a_chief"], world.units["a"], "chief_accountant")
    assert not selectors.user_has_unit_role(world.users["a_chief"], world.units["b"], "chief_accountant")


def test_memberships_are_read_once_per_user_object(world, django_assert_num_queries):
    user = world.users["a_holder"]
    user._portal_memberships = None
    with django_assert_num_queries(1):
        selectors.roles_of(user)
        selectors.visible_units(user)
        selectors.has_role(user, "account_holder")


def test_office_scope_comes_with_the_memberships_and_equals_the_office_tree(world, django_assert_num_queries):
    """office_scope_q reads no query of its own: the memberships' query brings each
    treasury office's transaction offices at or below it, the same set as a walk
    of the tree by path (the root office too, and a user in two provinces)."""
    from accounts.models import TREASURY_ROLES, Membership, OrgKind, Role, User

    root = Organisation.objects.filter(kind=OrgKind.TREASURY_OFFICE, parent__isnull=True).first()
    two = UserFactory(username="two_provinces")
    for office in Organisation.objects.filter(kind=OrgKind.TREASURY_OFFICE, parent=root)[:2]:
        Membership.objects.create(user=two, organisation=office, role=Role.CONTROL_OFFICER)
    central = UserFactory(username="central_approver")
    Membership.objects.create(user=central, organisation=root, role=Role.APPROVER)
    offices = Organisation.objects.filter(kind=OrgKind.TREASURY_OFFICE)
    checked = 0
    for user in User.objects.filter(memberships__role__in=TREASURY_ROLES).distinct():
        paths = {m.organisation.path for m in user.memberships.filter(role__in=TREASURY_ROLES)}
        expected = {o.pk for o in offices if any(o.path.startswith(p) for p in paths)}
        user._portal_memberships = None
        selectors.memberships_of(user)
        with django_assert_num_queries(0):
            q = selectors.office_scope_q(user, roles=TREASURY_ROLES, field="pk")
        assert set(offices.filter(q).values_list("pk", flat=True)) == expected, user.username
        assert expected
        checked += 1
    assert checked >= 4
    assert set(offices.filter(selectors.office_scope_q(central, roles={Role.APPROVER}, field="pk"))) == set(offices)
    assert not offices.filter(selectors.office_scope_q(central, roles={Role.CONTROL_OFFICER}, field="pk")).exists()
