"""The vouchers' section of the home page, per role."""

import pytest
from django.urls import reverse

from conftest import enrol_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(client, world):
    def as_user(username):
        user = world.users[username]
        if not user.authenticator_set.exists():
            enrol_totp(user)
        client.force_login(user)
        response = client.get(reverse("home"))
        assert response.status_code == 200
        return response.content.decode()

    return as_user


def test_preparer_sees_returned_and_drafts(home, kit):
    kit.draft()
    returned = kit.returned()
    html = home("a_preparer")
    assert "Bị trả lại, cần bổ sung: 1" in html and returned.number in html
    assert "Chứng từ nháp: 1" in html


def test_signers_see_what_waits_for_their_signature(home, kit):
    draft = kit.draft()
    html = home("a_chief")
    assert "Chờ bạn ký (kế toán trưởng): 1" in html and draft.number in html
    assert "Chờ bạn ký và gửi" not in home("a_holder")  # the chief accountant signs first
    kit.sign(draft, "a_chief")
    assert "Chờ bạn ký và gửi (chủ tài khoản): 1" in home("a_holder")


def test_officer_sees_queue_counts_and_approver_pending(home, kit):
    kit.submitted()
    kit.pending()
    html = home("officer")
    assert "Chờ nhận kiểm soát: 1" in html and "Quá hạn: 0" in html
    assert "Chờ phê duyệt: 1" in home("approver")


def test_home_query_count_does_not_grow_with_vouchers(client, world, kit, django_assert_max_num_queries):
    user = world.users["a_chief"]
    enrol_totp(user)
    client.force_login(user)
    kit.draft()
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("home"))
    for _ in range(4):
        kit.draft()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("home"))


def test_supplier_clerk_has_no_voucher_section(home, kit):
    assert "Chứng từ cần xử lý" not in home("evn_clerk")
