"""Idempotency-Key on POST (treasury_portal.api.PortalAPIView), through
POST /api/v1/me/signing-keys: replay, concurrency, conflicts, per-user keys."""

import threading

import pytest
from django.db import connections

from accounts import crypto
from accounts.models import IdempotencyRecord, SigningKey
from conftest import api_client_for
from tests.postgres import needs_postgres

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/signing-keys"


def _body(unit: str = "1023456", role: str = "account_holder") -> dict:
    return {"public_key": crypto.generate_keypair()[1], "role": role, "unit": unit}


def _post(client, body: dict, key: str | None):  # noqa: ANN001, ANN202
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(URL, body, format="json", **headers)


def test_the_same_key_and_body_replays_the_first_response(world, api):
    client, body = api("b_holder"), _body()
    first = _post(client, body, "key-1")
    assert first.status_code == 201
    second = _post(client, body, "key-1")
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert SigningKey.objects.count() == 1


def test_without_a_key_each_post_is_new(world, api):
    client = api("b_holder")
    assert _post(client, _body(), None).status_code == 201
    assert _post(client, _body(), None).status_code == 201
    assert SigningKey.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_the_same_key_with_another_body_is_a_conflict(world, api):
    client = api("b_holder")
    assert _post(client, _body(), "key-2").status_code == 201
    response = _post(client, _body(), "key-2")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"
    assert SigningKey.objects.count() == 1


def test_keys_are_scoped_per_user(world, api):
    body_a, body_b = _body(unit="1012345"), _body(unit="1023456")
    first = _post(api("a_holder"), body_a, "shared-key")
    other = _post(api("b_holder"), body_b, "shared-key")
    assert first.status_code == other.status_code == 201
    assert first.json()["id"] != other.json()["id"]
    assert other.json()["unit"] == "1023456"
    assert "Idempotent-Replayed" not in other
    assert SigningKey.objects.count() == 2


def test_a_refusal_is_replayed_too(world, api):
    client = api("b_holder")
    body = {"public_key": "not a key", "role": "account_holder", "unit": "1023456"}
    first = _post(client, body, "key-3")
    assert first.status_code == 400
    again = _post(client, body, "key-3")
    assert again.status_code == 400 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


def test_an_overlong_key_is_a_validation_error(world, api):
    response = _post(api("b_holder"), _body(), "k" * 256)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert not SigningKey.objects.exists()


def test_a_get_ignores_the_header(world, api):
    client = api("b_holder")
    response = client.get(URL, HTTP_IDEMPOTENCY_KEY="get-key")
    assert response.status_code == 200
    assert not IdempotencyRecord.objects.exists()


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_repeats_create_one_object(world):
    user = world.users["b_holder"]
    clients = [api_client_for(user) for _ in range(20)]
    body = _body()
    barrier = threading.Barrier(len(clients))
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def post(client) -> None:  # noqa: ANN001
        try:
            barrier.wait()
            response = _post(client, body, "race-key")
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 20
    assert {status for status, _ in results} == {201}, results
    assert len({body["id"] for _, body in results}) == 1
    assert SigningKey.objects.count() == 1
    assert IdempotencyRecord.objects.filter(user=user, key="race-key").count() == 1
