"""The account pages and the base layout: every role's home page renders
cleanly, navigation follows the role, the language switch works on every page."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts import selectors
from conftest import enrol_totp

pytestmark = pytest.mark.django_db

USERS = ["a_preparer", "a_chief", "a_holder", "officer", "approver", "tadmin", "evn_clerk"]


def _client_for(world, username: str) -> Client:  # noqa: ANN001
    user = world.users[username]
    if selectors.requires_mfa(user):
        enrol_totp(user)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("username", USERS)
def test_every_roles_home_page_renders_without_empty_links(world, username):
    response = _client_for(world, username).get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href=""' not in html
    assert re.search(r"<a [^>]*>\s*</a>", html) is None, "a link without text"
    assert '<main id="main"' in html and 'lang="vi"' in html
    # Sections keep their own text; a missing key never shows the dict's keys.
    for section in response.context["sections"]:
        assert {"title", "count", "text", "url", "items"} <= set(section)
        assert all(isinstance(item, dict) for item in section["items"])


def test_navigation_follows_the_role(world):
    officer = _client_for(world, "officer").get(reverse("home")).context["nav_items"]
    preparer = _client_for(world, "a_preparer").get(reverse("home")).context["nav_items"]
    admin = _client_for(world, "tadmin").get(reverse("home")).context["nav_items"]
    urls = {name: {i["url"] for i in items} for name, items in [("o", officer), ("p", preparer), ("a", admin)]}
    assert reverse("signing-key-approvals") in urls["a"]
    assert reverse("signing-key-approvals") not in urls["o"] | urls["p"]
    assert reverse("admin:index") in urls["a"] and reverse("admin:index") not in urls["o"] | urls["p"]
    assert all(item["url"] for item in officer + preparer + admin)


def test_the_language_switch_changes_the_page_language(world):
    client = _client_for(world, "a_preparer")
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("profile")})
    assert response.status_code == 302 and response["Location"] == reverse("profile")
    page = client.get(reverse("profile")).content.decode()
    assert '<html lang="en">' in page
    assert "My account" in page and "Tài khoản của tôi" not in page
    assert "Skip to main content" in page
    client.post(reverse("set_language"), {"language": "vi", "next": reverse("profile")})
    page = client.get(reverse("profile")).content.decode()
    assert '<html lang="vi">' in page and "Tài khoản của tôi" in page


def test_the_english_catalogue_is_compiled_and_covers_the_layout():
    from django.utils import translation

    with translation.override("en"):
        assert translation.gettext("Trang chủ") == "Home"
        assert translation.gettext("Bỏ qua đến nội dung chính") == "Skip to main content"
        assert translation.gettext("Đăng nhập") == "Sign in"
        assert translation.gettext("Xác thực hai lớp") == "Two-factor authentication"


def test_the_language_switch_is_on_every_page_including_sign_in(client):
    html = client.get(reverse("account_login")).content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert '<label for="lang-select"' in html


def test_profile_shows_roles_and_mfa_state(world):
    client = _client_for(world, "a_holder")
    page = client.get(reverse("profile")).content.decode()
    assert "1012345" in page and "Chủ tài khoản" in page
    assert "Đang bật" in page  # TOTP is active


def test_signing_keys_page_offers_only_the_users_signer_roles(world):
    from conftest import totp_code

    secret = enrol_totp(world.users["a_chief"])
    client = Client()
    client.post(reverse("account_login"), {"login": "a_chief", "password": "demo-Password-2026"})
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    response = client.get(reverse("signing-keys"))
    if response.status_code == 302:  # registering a key asks for the password again
        assert response["Location"].startswith(reverse("account_reauthenticate"))
        client.post(reverse("account_reauthenticate"), {"password": "demo-Password-2026"})
        response = client.get(reverse("signing-keys"))
    assert response.status_code == 200
    choices = [value for value, _label in response.context["form"].fields["unit_role"].choices]
    assert choices == ["1012345:chief_accountant"]
    assert "signing.js" in response.content.decode()


def test_a_preparer_cannot_register_a_signing_key(world):
    client = Client()
    client.post(reverse("account_login"), {"login": "a_preparer", "password": "demo-Password-2026"})
    response = client.get(reverse("signing-keys"))
    if response.status_code == 302:
        client.post(reverse("account_reauthenticate"), {"password": "demo-Password-2026"})
        response = client.get(reverse("signing-keys"))
    assert response.status_code == 200
    assert response.context["can_register"] is False
    assert "data-keygen" not in response.content.decode()
