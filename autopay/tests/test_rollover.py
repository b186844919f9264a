"""The roll-over of an autopay authorization into the next fiscal year
(autopay.services.authorization_roll_over): through the service, the unit's
page and the API (moved from payments/tests/test_yearend*.py)."""

from datetime import date

import pytest
from django.urls import reverse

from autopay import selectors as autopay_selectors
from autopay import services as autopay
from autopay.models import AuthorizationStatus, AutopayAuthorization, AutopayEvent
from autopay.tests.autopay_kit import AutopayKit
from payments.services import yearend
from payments.tests.kit import seed_money
from payments.tests.test_yearend_web import in_adjustment, login, text  # noqa: F401 - fixtures
from treasury_portal.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    seed_money(world)
    return AutopayKit(world)


def _close(kit, **kw):  # noqa: ANN001, ANN003, ANN202
    return yearend.fiscal_year_close_set(actor=kit.user("tadmin"), office=kit.unit.office, year=kit.fiscal_year, **kw)


def test_an_authorization_rolls_over_to_the_matching_line_when_the_signers_confirm(kit, monkeypatch):
    old = kit.active_authorization(codes=("PE0001",))
    with pytest.raises(ApplicationError) as err:  # no line of the new year yet
        autopay.authorization_roll_over(actor=kit.user("a_chief"), authorization=old)
    assert err.value.code == "budget_line_missing"
    yearend.budget_lines_copy_to_next_year(actor=kit.user("tadmin"), close=_close(kit))
    with pytest.raises(ApplicationError) as err:  # the preparer is no signer
        autopay.authorization_roll_over(actor=kit.user("a_preparer"), authorization=old)
    assert err.value.code == "permission_denied"
    new = autopay.authorization_roll_over(actor=kit.user("a_chief"), authorization=old)
    assert autopay.authorization_roll_over(actor=kit.user("a_holder"), authorization=old).pk == new.pk
    assert new.status == AuthorizationStatus.DRAFT and new.rolled_over_from == old
    assert new.budget_line.fiscal_year == kit.fiscal_year + 1
    assert new.budget_line.classification == old.budget_line.classification
    assert (new.valid_from, new.valid_to) == (date(kit.fiscal_year + 1, 1, 1), date(kit.fiscal_year + 1, 12, 31))
    assert AutopayEvent.objects.filter(authorization=old, action="roll_over").exists()
    # The signers confirm it by signing; the account holder submits while the old one still holds the codes.
    kit.sign_authorization(new, "a_chief")
    kit.sign_authorization(new, "a_holder")
    new = autopay.authorization_submit(actor=kit.user("a_holder"), authorization=new)
    assert new.status == AuthorizationStatus.SUBMITTED
    with pytest.raises(ApplicationError) as err:  # the treasury confirms it once the old one ended
        autopay.authorization_confirm(actor=kit.user("tadmin"), authorization=new)
    assert err.value.code == "customer_code_taken" and "UQ-" in err.value.message
    assert old not in autopay_selectors.rollover_candidates(kit.user("a_chief"), kit.fiscal_year)


def test_the_roll_over_page_in_english(kit, in_adjustment):  # noqa: F811
    from tests.language_check import allowed_from_database, findings
    from tests.test_i18n import _english, _page

    kit.active_authorization(codes=("PE0001",))
    allowed = allowed_from_database()
    url = reverse("yearend-rollovers")
    page = _page(_english(kit.user("a_chief")), url)
    assert "Khóa sổ" not in page and "Chuyển ủy quyền" not in page, url
    assert findings(page, "en", allowed) == [], url


def test_a_signer_rolls_an_authorization_over_on_the_page(kit, login):  # noqa: F811
    old = kit.active_authorization(codes=("PE0001",))
    page = text(login("a_chief").get(reverse("yearend-rollovers")))
    assert str(old) in page and "Chưa có: đề nghị kho bạc tạo dòng dự toán năm mới" in page
    close = yearend.fiscal_year_close_set(actor=kit.user("tadmin"), office=kit.unit.office, year=kit.fiscal_year)
    response = login("tadmin").post(reverse("yearend-close-copy-budget-lines", args=[close.pk]))
    assert response.status_code == 302
    page = text(login("a_preparer").get(reverse("yearend-rollovers")))
    assert "Kế toán trưởng hoặc chủ tài khoản thực hiện" in page
    assert login("a_preparer").post(reverse("yearend-rollover", args=[old.pk])).status_code == 404
    response = login("a_chief").post(reverse("yearend-rollover", args=[old.pk]))
    new = AutopayAuthorization.objects.get(rolled_over_from=old)
    assert response.status_code == 302 and response["Location"] == reverse("autopay-authorization", args=[new.pk])
    assert new.status == AuthorizationStatus.DRAFT and new.budget_line.fiscal_year == kit.fiscal_year + 1
    assert str(old) not in text(login("a_chief").get(reverse("yearend-rollovers")))


def test_api_roll_over(kit, api):  # noqa: F811
    old = kit.active_authorization(codes=("PE0001",))
    response = api("a_holder").post(f"/api/v1/authorizations/{old.pk}/roll-over", format="json")
    assert response.status_code == 409 and response.json()["code"] == "budget_line_missing"
    close = yearend.fiscal_year_close_set(actor=kit.user("tadmin"), office=kit.unit.office, year=kit.fiscal_year)
    yearend.budget_lines_copy_to_next_year(actor=kit.user("tadmin"), close=close)
    response = api("a_holder").post(f"/api/v1/authorizations/{old.pk}/roll-over", format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "draft"
    assert api("b_holder").post(f"/api/v1/authorizations/{old.pk}/roll-over", format="json").status_code == 404
