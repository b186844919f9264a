"""Second factor: required for treasury staff and unit signers, and enforced on
every page and API route until enrolled; the admin is for treasury
administrators only and is entered through allauth's sign-in (with MFA)."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import selectors
from accounts.middleware import EXEMPT_PREFIXES
from accounts.services import api_token_create
from conftest import enrol_totp, totp_code
from tests.test_access_policy import NAMED
from treasury_portal.access_policy import POLICY

pytestmark = pytest.mark.django_db

PASSWORD = "demo-Password-2026"
MFA_REQUIRED = ["officer", "approver", "tadmin", "a_chief", "a_holder"]
MFA_OPTIONAL = ["a_preparer", "evn_clerk"]
ENROL = "/accounts/2fa/totp/activate/"


@pytest.mark.parametrize("username", MFA_REQUIRED)
def test_treasury_staff_and_signers_must_enrol_before_anything_else(world, client, username):
    user = world.users[username]
    assert selectors.requires_mfa(user)
    response = _login(client, username)
    assert response.status_code == 302
    assert "_auth_user_id" in client.session  # signed in with the password alone…
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")  # …but sent to enrolment
    # The enrolment page itself is reachable (recently authenticated: no re-authentication).
    assert client.get(ENROL).status_code == 200


@pytest.mark.parametrize("username", MFA_OPTIONAL)
def test_preparers_and_supplier_clerks_need_no_second_factor(world, client, username):
    user = world.users[username]
    assert not selectors.requires_mfa(user)
    client.force_login(user)
    assert client.get(reverse("home")).status_code == 200


def test_a_superuser_needs_mfa_too(world):
    user = world.users["a_preparer"]
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    assert selectors.requires_mfa(user)


def _page_routes_for_signed_in_users():
    for name in sorted(POLICY):
        route = NAMED.get(name)
        if route is None or route.is_api or route.params or not POLICY[name].login:
            continue
        path = reverse(name)
        if not path.startswith(EXEMPT_PREFIXES):
            yield name, path


def test_an_officer_without_mfa_reaches_no_page_at_all(world, client):
    officer = world.users["officer"]
    client.force_login(officer)
    pages = list(_page_routes_for_signed_in_users()) + [("admin:index", reverse("admin:index"))]
    assert len(pages) >= 5
    for name, path in pages:
        response = client.get(path)
        assert response.status_code == 302, name
        assert response["Location"] == reverse("mfa_activate_totp"), name
    enrol_totp(officer)
    assert client.get(reverse("home")).status_code == 200


def test_the_api_refuses_tokens_of_users_who_must_enrol(world):
    user = world.users["approver"]
    _token, plaintext = api_token_create(user=user, name="t")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    for name in ("api-me", "api-signing-keys", "api-my-signing-keys"):
        response = api.get(reverse(name))
        assert response.status_code == 403, name
        assert response.json()["code"] == "mfa_required"
    enrol_totp(user)
    assert api.get(reverse("api-me")).status_code == 200


def test_exempt_paths_stay_reachable_without_mfa(world, client):
    _login(client, "tadmin")
    assert client.get("/healthz").status_code == 200
    assert client.get(ENROL).status_code == 200
    assert client.get(reverse("api-schema")).status_code == 200
    response = client.post(reverse("set_language"), {"language": "en", "next": ENROL})
    assert response.status_code == 302 and response["Location"] == ENROL
    assert client.post(reverse("account_logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_enrolment_through_the_page_then_the_portal_opens(world, client):
    officer = world.users["officer"]
    _login(client, "officer")
    page = client.get(ENROL)
    secret = page.context["form"].secret
    assert secret and secret in page.content.decode()
    wrong = client.post(ENROL, {"code": "000000"})
    assert wrong.status_code == 200
    assert not officer.authenticator_set.exists()
    response = client.post(ENROL, {"code": totp_code(secret)})
    assert response.status_code == 302
    assert officer.authenticator_set.filter(type="totp").exists()
    assert client.get(reverse("home")).status_code == 200


def _login(client: Client, login: str, password: str = PASSWORD, **extra) -> object:
    return client.post(reverse("account_login"), {"login": login, "password": password, **extra})


def test_sign_in_of_an_enrolled_officer_asks_for_the_code(world, client):
    secret = enrol_totp(world.users["officer"])
    response = _login(client, "officer")
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # not signed in before the second factor
    assert client.get(reverse("home")).status_code == 302
    wrong = client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_a_totp_code_cannot_be_used_twice(world):
    secret = enrol_totp(world.users["approver"])
    code = totp_code(secret)
    first, second = Client(), Client()
    _login(first, "approver")
    assert first.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    _login(second, "approver")
    replay = second.post(reverse("mfa_authenticate"), {"code": code})
    assert replay.status_code == 200
    assert "_auth_user_id" not in second.session


# --- the Django admin ------------------------------------------------------------


def test_admin_is_for_treasury_administrators_only(world):
    for username in ("tadmin", "tadmin_b"):
        client = Client()
        enrol_totp(world.users[username])
        client.force_login(world.users[username])
        assert client.get(reverse("admin:index")).status_code == 200, username
    for username in ("officer", "approver", "a_holder", "a_preparer", "evn_clerk"):
        client = Client()
        if selectors.requires_mfa(world.users[username]):
            enrol_totp(world.users[username])
        client.force_login(world.users[username])
        response = client.get(reverse("admin:index"), follow=True)
        assert response.status_code == 403, username  # no redirect loop through the sign-in page
        assert len(response.redirect_chain) <= 2, response.redirect_chain


def test_anonymous_admin_visitors_sign_in_through_allauth_with_the_second_factor(world, client):
    secret = enrol_totp(world.users["tadmin"])
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert response.templates[0].name == "account/login.html"
    next_url = reverse("admin:index")
    response = _login(client, "tadmin", next=next_url)
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302 and response["Location"] == next_url
    assert client.get(next_url).status_code == 200


def test_the_admin_login_url_never_shows_its_own_password_form(world, client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    # A foreign `next` is not followed.
    response = client.get(reverse("admin:login") + "?next=https://evil.example/")
    assert "evil.example" not in response["Location"]


def test_changing_an_existing_factor_still_asks_for_the_password(world, client):
    secret = enrol_totp(world.users["officer"])
    _login(client, "officer")
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    response = client.get(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_a_stale_sign_in_must_reauthenticate_before_the_first_enrolment(world, client, monkeypatch):
    import time

    from accounts import adapters

    _login(client, "officer")
    assert client.get(ENROL).status_code == 200
    later = time.time() + 301
    monkeypatch.setattr(adapters.time, "time", lambda: later)
    response = client.get(ENROL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_a_session_without_a_password_sign_in_must_reauthenticate_before_enrolling(world, client):
    client.force_login(world.users["officer"])
    response = client.get(ENROL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_the_mfa_pages_render_in_the_portal_layout(world, client):
    """Enrol through the pages, then every MFA management page renders (Vietnamese templates)."""
    _login(client, "officer")
    page = client.get(ENROL)
    assert "mfa/totp/activate_form.html" in [t.name for t in page.templates]
    assert 'id="authenticator_secret"' in page.content.decode()
    response = client.post(ENROL, {"code": totp_code(page.context["form"].secret)}, follow=True)
    assert response.status_code == 200
    # allauth shows the fresh recovery codes right after activation.
    assert "mfa/recovery_codes/index.html" in [t.name for t in response.templates]
    codes = response.context["unused_codes"]
    assert codes and all(code in response.content.decode() for code in codes)
    index = client.get(reverse("mfa_index"))
    assert index.status_code == 200 and "mfa/index.html" in [t.name for t in index.templates]
    # The factor was set up in this session: no second password prompt for its pages.
    for name, template in [
        ("mfa_deactivate_totp", "mfa/totp/deactivate_form.html"),
        ("mfa_generate_recovery_codes", "mfa/recovery_codes/generate.html"),
    ]:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert template in [t.name for t in response.templates], name
        assert "base.html" in [t.name for t in response.templates], name


def test_the_second_factor_page_is_the_portals(world, client):
    enrol_totp(world.users["officer"])
    _login(client, "officer")
    response = client.get(reverse("mfa_authenticate"))
    assert response.status_code == 200
    names = [t.name for t in response.templates]
    assert "mfa/authenticate.html" in names and "base.html" in names
    assert 'autocomplete="one-time-code"' in response.content.decode()


def test_the_activation_page_keeps_its_secret_across_reloads(world, client):
    """Reloading the page after scanning the QR code used to make a new secret,
    and the code from the phone then failed with "Incorrect code"."""
    officer = world.users["officer"]
    _login(client, "officer")
    first = client.get(ENROL)
    secret = first.context["form"].secret
    second = client.get(ENROL)
    assert second.context["form"].secret == secret
    groups = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert groups in " ".join(second.content.decode().replace("</span>", "").replace("<span>", "").split())
    response = client.post(ENROL, {"code": totp_code(secret)})
    assert response.status_code == 302
    assert officer.authenticator_set.filter(type="totp").exists()
    assert "mfa.totp.secret" not in client.session  # activated: the pending secret is gone


def test_a_wrong_activation_code_is_explained(world, client):
    _login(client, "officer")
    client.get(ENROL)
    wrong = client.post(ENROL, {"code": "000000"})
    assert wrong.status_code == 200
    page = wrong.content.decode()
    assert "30 giây" in page and "đồng hồ của điện thoại" in page
    client.post(reverse("set_language"), {"language": "en", "next": ENROL})
    wrong = client.post(ENROL, {"code": "000000"})
    assert "changes every 30 seconds" in wrong.content.decode()
