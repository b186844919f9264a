"""Fixtures of the vouchers app's tests: the seeded kit and a signed-in client."""

import pytest

from conftest import enrol_totp
from vouchers.tests.kit import Kit, seed


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    """The world seeded with the vouchers' catalogue and budget, and its helpers."""
    seed(world)
    return Kit(world)


@pytest.fixture
def login(client, world):  # noqa: ANN001, ANN201
    """login(username) → the test client signed in as that demo user (TOTP enrolled)."""

    def as_user(username: str):  # noqa: ANN202
        user = world.users[username]
        if not user.authenticator_set.exists():
            enrol_totp(user)
        client.force_login(user)
        return client

    return as_user
