"""Autopay authorizations through the services: draft → signatures → submit →
confirm → revoke, and every refusal on the way."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts import crypto
from autopay import services as autopay
from autopay.models import AuthorizationCustomerCode, AuthorizationStatus, AutopayAuthorization, AutopayEvent
from autopay.tests.autopay_kit import autopay_kit
from payments.models import Notification
from treasury_portal.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    return autopay_kit(world)


def test_the_whole_life_of_an_authorization(kit):
    a = kit.draft_authorization(codes=("PE0002", "PE0001"))
    assert a.status == AuthorizationStatus.DRAFT and len(a.content_hash) == 64
    assert autopay.authorization_content(a)["customer_codes"] == ["PE0001", "PE0002"]
    kit.sign_authorization(a, "a_chief")
    kit.sign_authorization(a, "a_holder")
    a = autopay.authorization_submit(actor=kit.user("a_holder"), authorization=a)
    assert a.status == AuthorizationStatus.SUBMITTED
    a = autopay.authorization_confirm(actor=kit.user("tadmin"), authorization=a)
    assert a.status == AuthorizationStatus.ACTIVE and a.confirmed_by == kit.user("tadmin")
    assert set(AuthorizationCustomerCode.objects.filter(authorization=a).values_list("active", flat=True)) == {True}
    a = autopay.authorization_revoke(actor=kit.user("a_chief"), authorization=a, note="Đổi nhà cung cấp")
    assert a.status == AuthorizationStatus.REVOKED
    assert not AuthorizationCustomerCode.objects.filter(authorization=a, active=True).exists()
    actions = list(AutopayEvent.objects.filter(authorization=a).values_list("action", flat=True))
    assert actions == ["create", "sign", "sign", "submit", "confirm", "revoke"]
    assert Notification.objects.filter(user=kit.user("a_holder"), kind="autopay").count() == 4


def test_a_change_voids_the_signatures(kit):
    a = kit.draft_authorization()
    kit.sign_authorization(a, "a_chief")
    before = a.content_hash
    a = autopay.authorization_update(actor=kit.user("a_preparer"), authorization=a, data={"cap_per_invoice": 5_000_000})
    assert a.content_hash != before
    assert not a.signatures.filter(voided_at__isnull=True).exists()
    with pytest.raises(ApplicationError) as err:
        kit.sign_authorization(a, "a_holder")
    assert err.value.code == "signatures_missing"  # the chief accountant signs first


def test_submit_needs_both_signatures_and_the_holder(kit):
    a = kit.draft_authorization()
    kit.sign_authorization(a, "a_chief")
    with pytest.raises(ApplicationError) as err:
        autopay.authorization_submit(actor=kit.user("a_holder"), authorization=a)
    assert err.value.code == "signatures_missing"
    kit.sign_authorization(a, "a_holder")
    with pytest.raises(ApplicationError) as err:
        autopay.authorization_submit(actor=kit.user("a_chief"), authorization=a)
    assert err.value.code == "permission_denied"


def test_a_bad_signature_is_refused(kit):
    a = kit.draft_authorization()
    _private, key = kit.keys["a_chief"]
    other, _public = crypto.generate_keypair()
    with pytest.raises(ApplicationError) as err:
        autopay.authorization_sign(
            actor=kit.user("a_chief"), authorization=a, key_id=key.pk,
            signature=crypto.sign(other, bytes.fromhex(a.content_hash)),
        )
    assert err.value.code == "signature_invalid"


def test_only_an_administrator_over_the_unit_confirms(kit):
    a = kit.submitted_authorization()
    for username in ("tadmin_b", "approver", "a_holder"):
        with pytest.raises(ApplicationError) as err:
            autopay.authorization_confirm(actor=kit.user(username), authorization=a)
        assert err.value.code == "permission_denied", username
    rejected = autopay.authorization_reject(actor=kit.user("tadmin"), authorization=a, note="Sai mã khách hàng")
    assert rejected.status == AuthorizationStatus.REJECTED


def test_one_active_authorization_per_customer_code(kit):
    kit.active_authorization(codes=("PE0001",))
    a = kit.draft_authorization(codes=("PE0001", "PE0009"))
    kit.sign_authorization(a, "a_chief")
    kit.sign_authorization(a, "a_holder")
    with pytest.raises(ApplicationError) as err:
        autopay.authorization_submit(actor=kit.user("a_holder"), authorization=a)
    assert err.value.code == "customer_code_taken"


def test_a_renewal_takes_over_the_codes_of_an_expired_authorization(kit):
    today = timezone.localdate()
    old = kit.active_authorization(codes=("PE0001",))
    AutopayAuthorization.objects.filter(pk=old.pk).update(
        valid_from=today - timedelta(days=400), valid_to=today - timedelta(days=1)
    )
    renewal = kit.draft_authorization(codes=("PE0001",))
    kit.sign_authorization(renewal, "a_chief")
    kit.sign_authorization(renewal, "a_holder")
    autopay.authorization_submit(actor=kit.user("a_holder"), authorization=renewal)
    confirmed = autopay.authorization_confirm(actor=kit.user("tadmin"), authorization=renewal)
    assert confirmed.status == AuthorizationStatus.ACTIVE
    holders = AuthorizationCustomerCode.objects.filter(customer_code="PE0001", active=True)
    assert list(holders.values_list("authorization_id", flat=True)) == [renewal.pk]
    # The expired one keeps its codes as history, and its status.
    assert AuthorizationCustomerCode.objects.filter(authorization=old, customer_code="PE0001").exists()
    assert AutopayAuthorization.objects.get(pk=old.pk).status == AuthorizationStatus.ACTIVE


def test_the_database_forbids_two_active_authorizations_for_one_code(kit):
    first = kit.active_authorization(codes=("PE0001",))
    other = kit.draft_authorization(codes=("PE0001",))
    table = AuthorizationCustomerCode._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET active = true WHERE authorization_id = %s", [other.pk])  # noqa: S608
    assert first.status == AuthorizationStatus.ACTIVE


def test_input_is_checked(kit):
    for kw, field in (
        ({"codes": ()}, "customer_codes"),
        ({"codes": ("bad code!",)}, "customer_codes"),
        ({"cap_per_invoice": 0}, "cap_per_invoice"),
        ({"cap_per_invoice": 5, "cap_per_month": 4}, "cap_per_month"),
        ({"valid_from": "2020-01-01"}, "valid_to"),
    ):
        with pytest.raises(ApplicationError) as err:
            kit.draft_authorization(**kw)
        assert err.value.code == "validation_error" and field in err.value.fields, kw


def test_a_unit_cannot_charge_another_units_line(kit):
    from payments.models import BudgetLine

    line_b = BudgetLine.objects.filter(unit=kit.world.units["b"]).first()
    with pytest.raises(ApplicationError) as err:
        autopay.authorization_create(
            actor=kit.user("a_preparer"), unit=kit.unit, supplier="0100100079", customer_codes=["X1"],
            budget_line=line_b.pk, cap_per_invoice=1, cap_per_month=1, valid_from=f"{kit.fiscal_year}-01-01",
            valid_to=f"{kit.fiscal_year}-12-31",
        )
    assert err.value.code == "validation_error"
