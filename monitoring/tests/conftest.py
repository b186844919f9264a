import pytest

from vouchers.tests.kit import Kit, seed


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    seed(world)
    return Kit(world)


@pytest.fixture
def kit_b(world, kit):  # noqa: ANN001, ANN201
    return Kit(world, prefix="b")
