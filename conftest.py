"""Fixtures shared by every test: the demo world, MFA enrolment, API clients."""

import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from rest_framework.test import APIClient

from accounts import demo, selectors
from accounts.models import User
from accounts.services import api_token_create

# Every collected test gets a node id of its own and is reported, or the run fails.
pytest_plugins = ["tests.every_test_reported"]


def enrol_totp(user: User) -> str:
    """Activate TOTP for `user` as the enrolment page would; returns the secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str, offset: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def api_client_for(user: User, *, mfa: bool = True) -> APIClient:
    """An API client authenticated with a real Bearer token (as integrators are)."""
    if mfa and selectors.requires_mfa(user) and not user.authenticator_set.exists():
        enrol_totp(user)
    _token, plaintext = api_token_create(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.fixture
def world(db) -> demo.DemoWorld:  # noqa: ANN001
    return demo.seed()


@pytest.fixture
def api(world: demo.DemoWorld):  # noqa: ANN201
    """api("a_holder") → an APIClient for that demo user, MFA enrolled."""
    cache: dict[str, APIClient] = {}

    def make(username: str, *, mfa: bool = True) -> APIClient:
        if username not in cache:
            cache[username] = api_client_for(world.users[username], mfa=mfa)
        return cache[username]

    return make


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    """The world seeded with the vouchers' catalogue and budget, and its helpers
    (vouchers/tests/kit.py); a test module may define its own `kit`."""
    from vouchers.tests.kit import Kit, seed

    seed(world)
    return Kit(world)


@pytest.fixture
def drain_notifications(db):  # noqa: ANN001, ANN201, ARG001
    """drain_notifications() → how many events it drained. A voucher's change of
    status writes only its event (the outbox); the worker's drain
    (payments.services.notifications.notifications_drain, run by the deliverer
    woken on commit and by the beat's sweep) writes its notifications. A test's
    transaction never commits, so no wake-up runs it: call this after the
    transitions, before asserting their notifications (or run the wake-up with
    django_capture_on_commit_callbacks(execute=True), which also delivers)."""
    from payments.services.notifications import notifications_drain

    return notifications_drain


@pytest.fixture
def login(client, world: demo.DemoWorld):  # noqa: ANN001, ANN201
    """login(username) → the test client signed in as that demo user (TOTP enrolled)."""

    def as_user(username: str):  # noqa: ANN202
        user = world.users[username]
        if not user.authenticator_set.exists():
            enrol_totp(user)
        client.force_login(user)
        return client

    return as_user


@pytest.fixture(autouse=True)
def _default_language():  # noqa: ANN202
    """Every test starts in the portal's language. A test client's request to an
    English page leaves English active in the thread (LocaleMiddleware activates,
    nothing deactivates), so the next test in that xdist worker stored English
    texts — e.g. a payment's failure reason — and failed on a Vietnamese page."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _clear_cache(request: pytest.FixtureRequest) -> None:
    # Rate limits and TOTP "used code" markers live in the cache: start clean.
    # Without Redis the cache is the database's (as in make run): a test that
    # has no database cannot have used it, and may not touch it.
    from django.core.cache import caches
    from django.core.cache.backends.db import DatabaseCache

    from payments.selectors.banks import directory_invalidate
    from vouchers.selectors import catalogue_invalidate

    catalogue_invalidate()  # the per-process copy of the catalogue: rows of an earlier test are gone
    directory_invalidate()  # and of the bank directory
    cache = caches["default"]
    has_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames)
    if isinstance(cache, DatabaseCache) and not has_db:
        return
    cache.clear()
