"""Signing keys (the online signature specimen): register, approve by an
administrator of the unit's office only, the legal maximum of signers with a
database backstop, reject and revoke."""

import base64
import threading

import pytest
from django.db import IntegrityError, connections, transaction
from django.urls import reverse

from accounts import crypto, services
from accounts.models import SigningKey, SigningKeyStatus
from conftest import api_client_for, enrol_totp
from tests.factories import MembershipFactory, UserFactory
from tests.postgres import needs_postgres

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/me/signing-keys"


def _approve_url(key_id: int) -> str:
    return f"/api/v1/signing-keys/{key_id}/approve"


def _new_public_key() -> str:
    return crypto.generate_keypair()[1]


def _register(client, *, unit: str = "1023456", role: str = "account_holder", public_key: str | None = None):  # noqa: ANN001, ANN202
    body = {"public_key": _new_public_key() if public_key is None else public_key, "role": role, "unit": unit}
    return client.post(REGISTER, body, format="json")


def _extra_signer(world, role: str):  # noqa: ANN001, ANN202
    """One more signer of unit B. Written as a row, not through membership_grant:
    these tests need more signers than the legal maximum (memberships loaded
    before accounts.services enforced it), to show the key slots hold on their own."""
    user = UserFactory()
    MembershipFactory(user=user, organisation=world.units["b"], role=role)
    return user


# --- registration -------------------------------------------------------------------


def test_a_signer_registers_a_key_through_the_api(world, api):
    response = _register(api("b_holder"))
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["unit"] == "1023456" and body["role"] == "account_holder" and body["user"] == "b_holder"
    key = SigningKey.objects.get(pk=body["id"])
    assert key.fingerprint == crypto.key_fingerprint(base64.b64decode(key.public_key))
    listed = api("b_holder").get(REGISTER).json()
    assert [k["id"] for k in listed] == [body["id"]]


@pytest.mark.parametrize(
    "public_key",
    [
        "not base64!",
        base64.b64encode(b"\x01" * 31).decode(),  # too short
        base64.b64encode(b"\x01" * 33).decode(),  # too long
        base64.b64encode(b"\x01" * 32).decode().rstrip("="),  # not canonical base64
        "",
    ],
)
def test_an_invalid_public_key_is_a_validation_error(world, api, public_key):
    response = _register(api("b_holder"), public_key=public_key)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert "public_key" in body["fields"]
    assert not SigningKey.objects.exists()


def test_the_same_key_cannot_be_registered_twice(world, api):
    public_key = _new_public_key()
    assert _register(api("b_holder"), public_key=public_key).status_code == 201
    response = _register(api("b_chief"), role="chief_accountant", public_key=public_key)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_only_holders_of_the_role_register_for_it(world, api):
    response = _register(api("b_preparer"), role="chief_accountant")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    response = _register(api("b_chief"), role="account_holder")  # a chief accountant is not the holder
    assert response.status_code == 403
    response = _register(api("b_holder"), role="preparer")
    assert response.status_code == 400


def test_a_signer_cannot_register_for_another_unit(world, api):
    response = _register(api("a_holder"), unit="1023456")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- approval ----------------------------------------------------------------------------


def test_an_administrator_of_the_units_office_approves(world, api):
    key_id = _register(api("b_holder")).json()["id"]
    response = api("tadmin_b").post(_approve_url(key_id))
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    key = SigningKey.objects.get(pk=key_id)
    assert key.slot == 1 and key.decided_by == world.users["tadmin_b"] and key.decided_at is not None
    # Approving again is a no-op, not an error.
    again = api("tadmin_b").post(_approve_url(key_id))
    assert again.status_code == 200 and again.json()["status"] == "approved"


@pytest.mark.parametrize("username", ["tadmin", "officer_b", "approver_b", "b_holder", "b_chief", "a_holder"])
def test_nobody_else_approves(world, api, username):
    key_id = _register(api("b_holder")).json()["id"]
    response = api(username).post(_approve_url(key_id))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert SigningKey.objects.get(pk=key_id).status == SigningKeyStatus.PENDING


def test_an_administrator_of_a_parent_office_approves_too(world):
    # tadmin_b sits at 0200, above the unit's office 0201: "their office and the offices below it".
    key = services.signing_key_register(
        actor=world.users["b_chief"], unit=world.units["b"], role="chief_accountant", public_key=_new_public_key()
    )
    approved = services.signing_key_approve(actor=world.users["tadmin_b"], key_id=key.pk)
    assert approved.status == SigningKeyStatus.APPROVED


def test_reject_then_no_approval(world, api):
    key_id = _register(api("b_holder")).json()["id"]
    assert api("tadmin").post(f"/api/v1/signing-keys/{key_id}/reject").status_code == 404
    response = api("tadmin_b").post(f"/api/v1/signing-keys/{key_id}/reject")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    response = api("tadmin_b").post(_approve_url(key_id))
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_a_new_approved_key_replaces_the_signers_old_one(world, api):
    first = _register(api("b_holder")).json()["id"]
    api("tadmin_b").post(_approve_url(first))
    second = _register(api("b_holder")).json()["id"]
    api("tadmin_b").post(_approve_url(second))
    assert SigningKey.objects.get(pk=first).status == SigningKeyStatus.REVOKED
    assert SigningKey.objects.get(pk=second).status == SigningKeyStatus.APPROVED


@pytest.mark.parametrize(("role", "limit"), [("account_holder", 4), ("chief_accountant", 3)])
def test_the_legal_maximum_of_signers(world, api, role, limit):
    existing = "b_holder" if role == "account_holder" else "b_chief"
    users = [world.users[existing]] + [_extra_signer(world, role) for _ in range(limit)]
    key_ids = []
    for user in users:
        client = api(user.username) if user.username in world.users else api_client_for(user)
        response = _register(client, role=role)
        assert response.status_code == 201, response.json()
        key_ids.append(response.json()["id"])
    admin = api("tadmin_b")
    for key_id in key_ids[:limit]:
        assert admin.post(_approve_url(key_id)).status_code == 200
    assert sorted(SigningKey.objects.filter(pk__in=key_ids[:limit]).values_list("slot", flat=True)) == list(
        range(1, limit + 1)
    )
    response = admin.post(_approve_url(key_ids[limit]))
    assert response.status_code == 409
    assert response.json()["code"] == "signer_limit_reached"
    assert SigningKey.objects.get(pk=key_ids[limit]).status == SigningKeyStatus.PENDING
    # Revoking one frees its slot for the waiting signer.
    revoked = admin.post(f"/api/v1/signing-keys/{key_ids[1]}/revoke")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert admin.post(_approve_url(key_ids[limit])).status_code == 200
    assert SigningKey.objects.get(pk=key_ids[limit]).slot == 2


@pytest.mark.parametrize(("role", "slot"), [("account_holder", 5), ("chief_accountant", 4), ("account_holder", 0)])
def test_the_database_refuses_an_approved_key_beyond_the_limit(world, role, slot):
    with pytest.raises(IntegrityError), transaction.atomic():
        SigningKey.objects.create(
            user=world.users["b_holder"], unit=world.units["b"], role=role, public_key="x",
            fingerprint="f" * 64, status=SigningKeyStatus.APPROVED, slot=slot,
        )


def test_the_database_refuses_two_signers_in_one_slot(world):
    common = {"unit": world.units["b"], "role": "account_holder", "status": SigningKeyStatus.APPROVED, "slot": 1}
    SigningKey.objects.create(user=world.users["b_holder"], public_key="a", fingerprint="a" * 64, **common)
    other = _extra_signer(world, "account_holder")
    with pytest.raises(IntegrityError), transaction.atomic():
        SigningKey.objects.create(user=other, public_key="b", fingerprint="b" * 64, **common)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_never_exceed_the_limit(world):
    """Five pending chief-accountant keys approved at once: three win, two are refused."""
    users = [world.users["b_chief"]] + [_extra_signer(world, "chief_accountant") for _ in range(4)]
    keys = [
        services.signing_key_register(
            actor=u, unit=world.units["b"], role="chief_accountant", public_key=_new_public_key()
        )
        for u in users
    ]
    admin = world.users["tadmin_b"]
    barrier = threading.Barrier(len(keys))
    outcomes: list[str] = []

    def approve(key_id: int) -> None:
        from accounts.models import User

        try:
            actor = User.objects.get(pk=admin.pk)
            barrier.wait()
            services.signing_key_approve(actor=actor, key_id=key_id)
            outcomes.append("approved")
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            outcomes.append(getattr(exc, "code", repr(exc)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(k.pk,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["approved"] * 3 + ["signer_limit_reached"] * 2
    slots = SigningKey.objects.filter(status=SigningKeyStatus.APPROVED).values_list("slot", flat=True)
    assert sorted(slots) == [1, 2, 3]


# --- revocation -------------------------------------------------------------------------


def test_the_owner_revokes_a_key_and_others_cannot(world, api):
    key_id = _register(api("b_holder")).json()["id"]
    for username in ("a_holder", "b_chief", "tadmin", "officer_b"):
        response = api(username).post(f"/api/v1/signing-keys/{key_id}/revoke")
        assert response.status_code == 404, username
    response = api("b_holder").post(f"/api/v1/signing-keys/{key_id}/revoke")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert SigningKey.objects.get(pk=key_id).revoked_at is not None


# --- the pages --------------------------------------------------------------------------------


def test_the_approval_page_lists_and_approves_pending_keys(world, client):
    key = services.signing_key_register(
        actor=world.users["b_holder"], unit=world.units["b"], role="account_holder", public_key=_new_public_key()
    )
    enrol_totp(world.users["tadmin_b"])
    client.force_login(world.users["tadmin_b"])
    page = client.get(reverse("signing-key-approvals"))
    assert page.status_code == 200
    assert key.fingerprint in page.content.decode()
    response = client.post(reverse("signing-key-approvals"), {"key_id": key.pk, "action": "approve"})
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.status == SigningKeyStatus.APPROVED


def test_the_approval_page_of_another_office_neither_shows_nor_approves(world, client):
    key = services.signing_key_register(
        actor=world.users["b_holder"], unit=world.units["b"], role="account_holder", public_key=_new_public_key()
    )
    enrol_totp(world.users["tadmin"])
    client.force_login(world.users["tadmin"])
    page = client.get(reverse("signing-key-approvals"))
    assert page.status_code == 200
    assert key.fingerprint not in page.content.decode()
    client.post(reverse("signing-key-approvals"), {"key_id": key.pk, "action": "approve"})
    key.refresh_from_db()
    assert key.status == SigningKeyStatus.PENDING


def test_the_approval_page_is_404_for_everyone_but_administrators(world, client):
    enrol_totp(world.users["officer_b"])
    client.force_login(world.users["officer_b"])
    assert client.get(reverse("signing-key-approvals")).status_code == 404
