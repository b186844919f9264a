"""The public procedure catalogue page."""

import pytest
from django.urls import reverse

from vouchers import selectors
from vouchers.demo import NEWER_FROM
from vouchers.tests.kit import seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(client, world):
    seed(world)
    response = client.get(reverse("procedure-catalogue"))  # anonymous: the catalogue is public
    assert response.status_code == 200
    return response.content.decode()


def test_catalogue_is_public_and_lists_procedures_in_force(catalogue):
    for code in ("C2-02a/NS", "C2-03/NS", "C4-02a/KB", "C2-12/NS"):
        assert code in catalogue
    assert "Rút dự toán ngân sách – thực chi" in catalogue
    assert "2 ngày làm việc" in catalogue and "1 ngày làm việc" in catalogue


def test_catalogue_shows_required_documents_and_their_conditions(catalogue):
    assert "Hợp đồng" in catalogue
    assert "Bắt buộc khi tổng số tiền trên 50.000.000 đồng" in catalogue
    assert "Nội dung kho bạc kiểm soát" in catalogue  # the control checklist, in a disclosure


def test_catalogue_query_count_is_small(client, world, django_assert_max_num_queries):
    seed(world)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("procedure-catalogue")).status_code == 200


def test_catalogue_announces_the_newer_rule_with_its_date(catalogue):
    assert "25/12–31/12" in catalogue and "25/01–31/01" in catalogue  # its peak periods, in words
    if selectors.local_today() < NEWER_FROM:
        assert "Sắp áp dụng" in catalogue
        assert NEWER_FROM.strftime("%d/%m/%Y") in catalogue
