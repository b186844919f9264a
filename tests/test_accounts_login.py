"""Sign-in with django-allauth: username or e-mail, rate limits on failures
(Redis cache), session rotation, password reset by e-mail, no public sign-up."""

import re

import pytest
from allauth.account.adapter import get_adapter
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "demo-Password-2026"


def _client(ip: str) -> Client:
    # The failure limit counts per IP as well as per login: each test has its own IP.
    return Client(REMOTE_ADDR=ip)


def _login(client: Client, login: str, password: str = PASSWORD) -> object:
    return client.post(reverse("account_login"), {"login": login, "password": password})


def _signed_in_as(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).username if user_id else None


def test_sign_in_by_username(world):
    client = _client("10.1.0.1")
    response = _login(client, "a_preparer")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert _signed_in_as(client) == "a_preparer"
    assert client.get(reverse("home")).status_code == 200


def test_sign_in_by_email_in_any_case(world):
    client = _client("10.1.0.2")
    response = _login(client, "A_Preparer@Demo.Treasury.Example")
    assert response.status_code == 302
    assert _signed_in_as(client) == "a_preparer"


def test_a_wrong_password_is_refused_with_a_message(world):
    client = _client("10.1.0.3")
    response = _login(client, "a_preparer", "not-the-password")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert _signed_in_as(client) is None


def test_the_login_page_renders_for_anonymous_users(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="login"' in content and 'name="password"' in content
    assert 'autocomplete="current-password"' in content


def test_too_many_failures_lock_the_login_even_with_the_right_password(world):
    """login_failed: 5 per 5 minutes per IP and per login; the 6th attempt is refused."""
    client = _client("10.1.0.4")
    for _ in range(5):
        response = _login(client, "a_preparer", "wrong-password-123")
        assert response.status_code == 200
    response = _login(client, "a_preparer")
    assert response.status_code == 200
    limited = str(get_adapter().error_messages["too_many_login_attempts"])
    assert limited in response.context["form"].non_field_errors()
    assert _signed_in_as(client) is None


def test_the_failure_limit_counts_per_login_across_addresses(world):
    for i in range(5):
        _login(_client(f"10.2.0.{i}"), "a_chief", "wrong-password-123")
    client = _client("10.2.0.99")
    response = _login(client, "a_chief")
    assert response.status_code == 200
    assert _signed_in_as(client) is None
    # Another login from yet another address is unaffected.
    other = _client("10.2.0.100")
    assert _login(other, "b_preparer").status_code == 302


def test_the_failure_limit_counts_per_address_across_logins(world):
    client = _client("10.3.0.1")
    for username in ("a_preparer", "a_chief", "a_holder", "b_preparer", "b_chief"):
        _login(client, username, "wrong-password-123")
    response = _login(client, "evn_clerk")
    assert response.status_code == 200
    assert _signed_in_as(client) is None


def test_the_rate_limit_lives_in_the_shared_cache(world, settings):
    # allauth's limits need a real cache: Redis here, the database cache embedded.
    backend = settings.CACHES["default"]["BACKEND"]
    assert "dummy" not in backend.lower() and "locmem" not in backend.lower()


def test_signing_in_rotates_the_session_key(world):
    client = _client("10.1.0.5")
    session = client.session
    session["before_login"] = "x"
    session.save()
    client.cookies["sessionid"] = session.session_key
    before = session.session_key
    _login(client, "a_preparer")
    after = client.session.session_key
    assert after and after != before
    from django.contrib.sessions.backends.db import SessionStore

    assert not SessionStore().exists(before)


def test_sign_out_is_post_only(world):
    client = _client("10.1.0.6")
    _login(client, "a_preparer")
    client.get(reverse("account_logout"))
    assert _signed_in_as(client) == "a_preparer"  # a GET (e.g. an <img> on another site) does not sign out
    client.post(reverse("account_logout"))
    assert _signed_in_as(client) is None


def test_password_reset_by_email_end_to_end(world):
    client = _client("10.1.0.7")
    response = client.post(reverse("account_reset_password"), {"email": "a_preparer@demo.treasury.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["a_preparer@demo.treasury.example"]
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", message.body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    new_password = "a-New-Password-2027"
    response = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    assert User.objects.get(username="a_preparer").check_password(new_password)
    assert _login(_client("10.1.0.8"), "a_preparer", new_password).status_code == 302


def test_password_reset_for_an_unknown_address_reveals_nothing_and_carries_no_key(world):
    client = _client("10.1.0.9")
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.test"})
    known = _client("10.1.0.10").post(reverse("account_reset_password"), {"email": "a_holder@demo.treasury.example"})
    # Same answer either way: the form does not tell which addresses have accounts.
    assert response.status_code == known.status_code == 302
    assert response["Location"] == known["Location"]
    # allauth tells the unknown address that it has no account; only the real one gets a key.
    by_address = {m.to[0]: m.body for m in mail.outbox}
    assert "/accounts/password/reset/key/" not in by_address["nobody@example.test"]
    assert "/accounts/password/reset/key/" in by_address["a_holder@demo.treasury.example"]


def test_there_is_no_public_sign_up(world):
    client = _client("10.1.0.11")
    users = User.objects.count()
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    response = client.post(
        reverse("account_signup"),
        {
            "username": "intruder",
            "email": "intruder@example.test",
            "password1": "x-Strong-Pass-99",
            "password2": "x-Strong-Pass-99",
        },
    )
    assert User.objects.count() == users
    assert not User.objects.filter(username="intruder").exists()
    assert _signed_in_as(client) is None


def test_the_login_page_links_no_sign_up(client):
    content = client.get(reverse("account_login")).content.decode()
    assert reverse("account_signup") not in content


def test_too_many_sign_in_attempts_from_one_address_get_429(world, settings):
    """The "login" limit (30 a minute per IP in production) answers 429 Too Many Requests."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    client = _client("10.4.0.1")
    statuses = [_login(client, "b_preparer", "wrong-password-123").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = _login(client, "b_preparer")
    assert response.status_code == 429
    assert _signed_in_as(client) is None
    # Another address is not affected.
    assert _login(_client("10.4.0.2"), "b_preparer").status_code == 302


def test_production_limits_are_configured(settings):
    from treasury_portal.settings import base

    assert base.ACCOUNT_RATE_LIMITS["login_failed"] == "5/5m/ip,5/5m/key"
    assert "login" in base.ACCOUNT_RATE_LIMITS and "reset_password" in base.ACCOUNT_RATE_LIMITS
