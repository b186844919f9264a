import pytest

from vouchers.tests.kit import Kit


@pytest.fixture
def kit_b(world, kit):  # noqa: ANN001, ANN201
    return Kit(world, prefix="b")
