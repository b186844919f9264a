"""Operations: seed_demo is idempotent, /healthz tells the truth, the test cache
is scoped per worker, /api/v1/me describes the caller."""

import io

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError
from django.test import override_settings

from accounts.models import Membership, Organisation, OrgKind, User

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("accounts", "vouchers", "payments")


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
    }


def test_seed_demo_is_idempotent():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == first
    assert "a_preparer" in out.getvalue() and "tadmin" in out.getvalue()


def test_seed_demo_creates_what_the_readme_promises(settings):
    call_command("seed_demo", stdout=io.StringIO())
    offices = set(Organisation.objects.filter(kind=OrgKind.TREASURY_OFFICE).values_list("code", flat=True))
    assert {"0001", "0100", "0101", "0200", "0201"} <= offices
    assert {"1012345", "1023456"} <= set(Organisation.objects.filter(kind=OrgKind.UNIT).values_list("code", flat=True))
    assert Organisation.objects.filter(kind=OrgKind.SUPPLIER).count() >= 3
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == {
        "preparer", "chief_accountant", "account_holder", "control_officer", "approver", "administrator",
        "supplier_clerk",
    }
    user = User.objects.get(username="a_holder")
    assert user.check_password(settings.DEMO_PASSWORD)


def test_healthz_is_200_when_database_and_redis_answer(client, settings):
    if not settings.REDIS_URL:
        pytest.skip("Redis not configured: tests/test_smoke.py checks the in-process answer")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_healthz_is_503_when_redis_is_down(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["redis"].startswith("error")


def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    from accounts import views

    class Broken:
        def cursor(self):  # noqa: ANN201
            raise OperationalError("connection refused")

    monkeypatch.setattr(views, "connection", Broken())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("error")


def test_healthz_needs_no_sign_in_and_no_second_factor(world, client):
    client.force_login(world.users["officer"])  # without TOTP: everything else redirects
    assert client.get("/healthz").status_code == 200


def test_cache_clear_leaves_other_workers_keys_alone(settings):
    if "WorkerScopedRedisCache" not in settings.CACHES["default"]["BACKEND"]:
        pytest.skip("not the Redis test cache")
    raw = cache._cache.get_client(None, write=True)
    raw.set("someone-elses-key", "1")
    cache.set("mine", "1")
    try:
        cache.clear()
        assert cache.get("mine") is None
        assert raw.get("someone-elses-key") == b"1"
    finally:
        raw.delete("someone-elses-key")


def test_me_describes_a_treasury_officer(api):
    body = api("officer").get("/api/v1/me").json()
    assert body["username"] == "officer"
    assert body["memberships"] == [
        {
            "organisation_code": "0100",
            "organisation_name": "Kho bạc Nhà nước Nghệ An",
            "kind": "treasury_office",
            "role": "control_officer",
        }
    ]
