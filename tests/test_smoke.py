"""The foundation answers: health, identity, the MFA rule, tokens, idempotency."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_redis(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    # make test on a machine without Redis runs tasks in-process, as make run does.
    assert body["redis"] == ("ok" if settings.REDIS_URL else "not configured (tasks run in-process)")


def test_me_lists_memberships(api):
    body = api("a_holder").get("/api/v1/me").json()
    assert body["username"] == "a_holder"
    assert body["memberships"] == [
        {
            "organisation_code": "1012345",
            "organisation_name": "Trường THPT Huỳnh Thúc Kháng",
            "kind": "unit",
            "role": "account_holder",
        }
    ]


def test_api_without_token_is_401_with_code(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_revoked_token_is_refused(world):
    from rest_framework.test import APIClient

    from accounts.services import api_token_create, api_token_revoke

    user = world.users["a_preparer"]
    token, plaintext = api_token_create(user=user, name="x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert client.get("/api/v1/me").status_code == 200
    api_token_revoke(actor=user, token_id=token.pk)
    assert client.get("/api/v1/me").status_code == 401


def test_officer_without_mfa_reaches_no_treasury_page_but_can_after_enrolment(world, client):
    from conftest import enrol_totp

    officer = world.users["officer"]
    client.force_login(officer)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    enrol_totp(officer)
    assert client.get(reverse("home")).status_code == 200


def test_api_refuses_signer_without_mfa(api):
    response = api("a_holder", mfa=False).get("/api/v1/me")
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"
