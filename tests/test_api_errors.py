"""Every answer under /api/ that is an error carries the contract's JSON body
{"code", "detail", "fields"?} (api-contract.md), whatever failed: the body's
parser, its size, the URL, the method, the media types, the throttle, or the
code itself (a 500)."""

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import path
from rest_framework import exceptions

from treasury_portal import api as portal_api
from treasury_portal.urls import urlpatterns as portal_urlpatterns

pytestmark = pytest.mark.django_db

URL = "/api/v1/vouchers"


def _is_error_body(response, code: str) -> dict:  # noqa: ANN001
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert set(body) <= {"code", "detail", "fields"}
    return body


def test_deeply_nested_json_is_a_malformed_json_400_not_a_500(world, api):
    client = api("b_holder")
    response = client.generic("POST", URL, "[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    _is_error_body(response, "malformed_json")


def test_deeply_nested_json_with_an_idempotency_key_too(world, api):
    client = api("b_holder")
    response = client.generic(
        "POST", URL, "{\"a\":" * 50_000, content_type="application/json", HTTP_IDEMPOTENCY_KEY="deep-1"
    )
    assert response.status_code == 400
    _is_error_body(response, "malformed_json")


def test_json_that_does_not_parse_is_malformed_json(world, api):
    response = api("b_holder").generic("POST", URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    _is_error_body(response, "malformed_json")


@pytest.mark.parametrize("idempotency_key", [None, "big-1"])
@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_body_over_the_size_limit_is_a_413_json_error(world, api, content_type, idempotency_key):
    client = api("b_holder")
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10
    body = '{"x": "' + "a" * size + '"}' if content_type == "application/json" else "x=" + "a" * size
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    response = client.generic("POST", URL, body, content_type=content_type, **headers)
    assert response.status_code == 413
    _is_error_body(response, "request_too_large")


def test_an_unknown_api_path_is_a_json_404():
    response = Client().get("/api/v1/no-such-thing")
    assert response.status_code == 404
    _is_error_body(response, "not_found")


def test_a_wrong_method_is_a_json_405(world, api):
    response = api("b_holder").delete(URL)
    assert response.status_code == 405
    _is_error_body(response, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_an_unsupported_media_type_is_a_json_415(world, api):
    response = api("b_holder").generic("POST", URL, "<x/>", content_type="application/xml")
    assert response.status_code == 415
    _is_error_body(response, "unsupported_media_type")


def test_an_unacceptable_accept_header_is_a_json_406(world, api):
    response = api("b_holder").get(URL, HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
    _is_error_body(response, "not_acceptable")


def test_a_throttled_request_is_a_json_429_with_retry_after():
    response = portal_api.exception_handler(exceptions.Throttled(wait=7), {})
    assert response.status_code == 429
    assert response.data["code"] == "throttled"
    assert response["Retry-After"] == "7"


def _crash(request):  # noqa: ANN001, ANN202
    raise RuntimeError("boom")


urlpatterns = [path("api/v1/crash", _crash), path("crash", _crash), *portal_urlpatterns]
handler404 = portal_api.handler404
handler500 = portal_api.handler500
handler400 = portal_api.handler400


@override_settings(ROOT_URLCONF=__name__)
def test_an_unhandled_exception_under_api_is_a_json_500_and_a_page_elsewhere():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/crash")
    assert response.status_code == 500
    _is_error_body(response, "server_error")
    page = client.get("/crash")
    assert page.status_code == 500
    assert not page["Content-Type"].startswith("application/json")


def test_a_bad_request_outside_any_view_is_a_json_400_under_api():
    """A host not in ALLOWED_HOSTS fails before any view (SuspiciousOperation → handler400)."""
    response = Client().get("/api/v1/me", HTTP_HOST="evil.example")
    assert response.status_code == 400
    _is_error_body(response, "bad_request")
