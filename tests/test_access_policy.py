"""The access policy holds on every route that exists, pages and API.

Walks every URL pattern (recursively) and fails for any route without a declared
policy in treasury_portal/access_policy.py. Then, for every declared route:

- anonymous users get 401 (API) or a redirect to the sign-in page (pages),
  unless the route is public;
- users who hold none of the route's roles get 403/404, never data;
- for routes about one object (`obj=`), every demo user outside the object's
  organisation (tests/access_objects.py) gets 404, and one of its owners does not
  (so the URL really pointed at the object);
- no request in any of these ends in a 5xx.

Routes added later are covered without edits here: declare the policy, and for a
new object kind add a maker to tests/access_objects.py.
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls import converters as url_converters
from rest_framework.test import APIClient

from accounts import selectors
from accounts.services import api_token_create
from conftest import enrol_totp
from tests import access_objects
from treasury_portal.access_policy import DELEGATED_PREFIXES, POLICY, Policy

pytestmark = pytest.mark.django_db

# One demo user per role, all on unit B's side (the supplier clerk aside), so
# that a role check is tested apart from the organisation check.
ROLE_REPRESENTATIVES = ("b_preparer", "b_chief", "b_holder", "officer_b", "approver_b", "tadmin_b", "evn_clerk")
DENIED = {403, 404, 405}
API_CODES = {401: {"not_authenticated"}, 403: {"permission_denied", "mfa_required"}, 404: {"not_found"}}


# --- the URL tree --------------------------------------------------------------


@dataclass
class Route:
    route: str  # the full pattern, e.g. "api/v1/signing-keys/<int:pk>/approve"
    name: str | None  # namespaced: "admin:index"
    namespace: str
    callback: Any
    params: dict[str, Any] = field(default_factory=dict)  # kwarg name → converter (None for regex groups)

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def delegated(self) -> bool:
        label = self.name or self.namespace
        return bool(label) and label.startswith(DELEGATED_PREFIXES)

    def methods(self) -> list[str]:
        """The HTTP methods to try: what a DRF view implements, else GET and POST."""
        actions = getattr(self.callback, "actions", None)
        if actions:
            return sorted({m.upper() for m in actions})
        cls = getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)
        if cls is not None and hasattr(cls, "http_method_names") and self.is_api:
            found = [m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)]
            return found or ["GET", "POST"]
        return ["GET", "POST"]


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> list[Route]:
    routes: list[Route] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace + (f"{p.namespace}:" if p.namespace else "")
            routes += _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            params = dict(getattr(p.pattern, "converters", {}) or {})
            regex = p.pattern.regex
            for group in regex.groupindex:
                params.setdefault(group, None)
            routes.append(
                Route(
                    route=prefix + str(p.pattern),
                    name=f"{namespace}{p.name}" if p.name else None,
                    namespace=namespace,
                    callback=p.callback,
                    params=params,
                )
            )
    return routes


ALL_ROUTES = _walk(get_resolver().url_patterns)
NAMED = {r.name: r for r in ALL_ROUTES if r.name}
CHECKED = sorted(name for name, r in NAMED.items() if not r.delegated and name in POLICY)


def _twin_of(route: Route) -> Route | None:
    """The named route an unnamed trailing-slash twin (api_path) stands for."""
    if not route.route.endswith("/"):
        return None
    bare = route.route[:-1]
    return next((r for r in ALL_ROUTES if r.name and r.route == bare), None)


# --- the structure of the policy table ---------------------------------------------


def test_every_route_has_a_declared_policy():
    missing = sorted(r.name for r in ALL_ROUTES if r.name and not r.delegated and r.name not in POLICY)
    unnamed = sorted(r.route for r in ALL_ROUTES if not r.name and not r.delegated and _twin_of(r) is None)
    assert not missing, (
        f"Routes without an access policy: {missing}. Declare each in treasury_portal/access_policy.py POLICY."
    )
    assert not unnamed, (
        f"Unnamed routes: {unnamed}. Give every route a name (api_path's slash twin is the only exception) "
        "and declare it in POLICY."
    )


def test_policy_names_only_routes_that_exist():
    stale = sorted(set(POLICY) - set(NAMED))
    assert not stale, f"POLICY declares routes that do not exist (renamed or removed?): {stale}"


def test_every_object_kind_has_a_maker():
    kinds = {p.obj for p in POLICY.values() if p.obj}
    missing = sorted(kinds - set(access_objects.MAKERS))
    assert not missing, f"Add a maker for {missing} to tests/access_objects.py MAKERS."
    obj_routes_without_kwargs = sorted(
        name for name in CHECKED if POLICY[name].obj and not NAMED[name].params
    )
    assert not obj_routes_without_kwargs, f"Routes declared with obj= but no URL kwargs: {obj_routes_without_kwargs}"


def test_routes_with_kwargs_declare_an_object_kind_or_are_public():
    """A signed-in route about one object must say which kind, or the 404 rule goes untested."""
    undeclared = sorted(
        name for name in CHECKED if NAMED[name].params and POLICY[name].login and not POLICY[name].obj
    )
    assert not undeclared, (
        f"Routes with URL kwargs but no obj= in POLICY: {undeclared}. Declare the object kind and add a maker."
    )


def test_walker_sees_the_known_routes():
    # The walk itself must work, or every other test here passes vacuously.
    assert {"home", "api-me", "api-signing-key-approve", "healthz", "admin:index", "account_login"} <= set(NAMED)
    assert len(CHECKED) >= 15
    twin = next(r for r in ALL_ROUTES if r.route == "api/v1/me/")
    assert twin.name is None and _twin_of(twin).name == "api-me"


# --- requests ---------------------------------------------------------------------


class Session:
    """Clients per demo user: pages through a signed-in session, the API through
    a real Bearer token (as integrators call it). Everyone who needs MFA has it."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self._pages: dict[str, Client] = {}
        self._api: dict[str, APIClient] = {}

    def user(self, username: str) -> Any:
        return self.world.users[username]

    def client(self, username: str | None, *, api: bool) -> Client:
        if username is None:
            return APIClient() if api else Client()
        user = self.user(username)
        if selectors.requires_mfa(user) and not user.authenticator_set.exists():
            enrol_totp(user)
        if api:
            if username not in self._api:
                _token, plaintext = api_token_create(user=user, name="access-policy-test")
                client = APIClient()
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
                self._api[username] = client
            return self._api[username]
        if username not in self._pages:
            client = Client()
            client.force_login(user)
            self._pages[username] = client
        return self._pages[username]

    def call(self, username: str | None, route: Route, url: str, method: str) -> Any:
        client = self.client(username, api=route.is_api)
        kwargs: dict[str, Any] = {}
        if route.is_api and method in {"POST", "PUT", "PATCH"}:
            kwargs = {"data": {}, "format": "json"}
        return getattr(client, method.lower())(url, **kwargs)


def _placeholder(converter: Any) -> Any:
    if isinstance(converter, url_converters.IntConverter):
        return 987654321
    if isinstance(converter, url_converters.UUIDConverter):
        return uuid.UUID(int=1)
    return "x1"


def _url(route: Route, obj: Any = None) -> str:
    if obj is None:
        kwargs = {k: _placeholder(c) for k, c in route.params.items()}
    elif isinstance(obj, dict):
        kwargs = {k: obj[k] for k in route.params}
    else:
        kwargs = {}
        for k in route.params:
            if k in {"pk", "id"}:
                kwargs[k] = obj.pk
            elif hasattr(obj, k):
                kwargs[k] = getattr(obj, k)
            else:
                raise AssertionError(
                    f"{route.name}: cannot fill URL kwarg {k!r} from {type(obj).__name__}; "
                    "let its maker return a dict of kwargs"
                )
    return reverse(route.name, kwargs=kwargs)


def _roles(session: Session, username: str) -> set[str]:
    return selectors.roles_of(session.user(username))


def _has_role(session: Session, username: str, policy: Policy) -> bool:
    return policy.roles is None or bool(_roles(session, username) & policy.roles)


def _is_login_redirect(response: Any) -> bool:
    return response.status_code in {301, 302, 303} and response["Location"].startswith(reverse("account_login"))


class Findings(list):
    def check(self, ok: bool, who: str | None, method: str, url: str, response: Any, expected: str) -> None:
        if not ok:
            body = b""
            if hasattr(response, "content") and not getattr(response, "streaming", False):
                body = response.content[:200]
            who = who or "anonymous"
            self.append(f"{method} {url} as {who}: {response.status_code} {body!r} (expected {expected})")

    def api_code(self, route: Route, who: str | None, method: str, url: str, response: Any) -> None:
        codes = API_CODES.get(response.status_code)
        if not route.is_api or codes is None:
            return
        try:
            code = response.json().get("code")
        except (ValueError, AttributeError):
            code = None
        self.check(code in codes, who, method, url, response, f"error body with code in {sorted(codes)}")


@pytest.fixture
def session(world):  # noqa: ANN001, ANN201
    return Session(world)


@pytest.mark.parametrize("name", CHECKED)
def test_policy_holds(name, session):  # noqa: ANN001
    route, policy = NAMED[name], POLICY[name]
    findings = Findings()
    obj = access_objects.MAKERS[policy.obj](session.world) if policy.obj else None
    url = _url(route, obj)
    methods = route.methods()

    # 1. Anonymous.
    for method in methods:
        response = session.call(None, route, url, method)
        findings.check(response.status_code < 500, None, method, url, response, "no 5xx")
        if not policy.login:
            findings.check(
                response.status_code not in {401, 403} and not _is_login_redirect(response),
                None, method, url, response, "a public route",
            )
        elif route.is_api:
            findings.check(response.status_code in {401, 405}, None, method, url, response, "401")
            findings.api_code(route, None, method, url, response)
        else:
            findings.check(
                _is_login_redirect(response) or response.status_code == 405,
                None, method, url, response, "a redirect to the sign-in page",
            )
    if policy.login and all(session.call(None, route, url, m).status_code == 405 for m in methods):
        findings.append(f"{name}: every method answered 405, so nothing was checked for anonymous users")

    if not policy.login:
        assert not findings, "\n".join(findings)
        return

    # 2. Signed in without any of the route's roles (same organisation as the object).
    if policy.roles is not None:
        for username in ROLE_REPRESENTATIVES:
            if _has_role(session, username, policy):
                continue
            for method in methods:
                response = session.call(username, route, url, method)
                findings.check(response.status_code in DENIED, username, method, url, response, "403/404")
                findings.api_code(route, username, method, url, response)

    # 3. Users of other organisations: the object does not exist for them.
    if policy.obj:
        answered = False
        for username in access_objects.foreign_users(policy.obj):
            allowed = {404, 405} if _has_role(session, username, policy) else DENIED
            for method in methods:
                response = session.call(username, route, url, method)
                answered |= response.status_code != 405
                findings.check(
                    response.status_code in allowed, username, method, url, response,
                    " or ".join(str(s) for s in sorted(allowed)),
                )
                findings.api_code(route, username, method, url, response)
        if not answered:
            findings.append(f"{name}: every method answered 405 for foreign users: nothing checked")

        # 4. An owner reaches it: the URL pointed at the object (last: it may change it).
        owners = [u for u in access_objects.owners(policy.obj) if _has_role(session, u, policy)]
        reached = []
        for username in owners:
            for method in methods:
                response = session.call(username, route, url, method)
                findings.check(response.status_code < 500, username, method, url, response, "no 5xx")
                if response.status_code not in {404, 405}:
                    reached.append((username, method, response.status_code))
            if reached:
                break
        if not reached:
            findings.append(
                f"{name}: none of the owners {owners} reached {url} (all 404/405): the maker for "
                f"{policy.obj!r} or the URL kwargs are wrong, so the 404s above prove nothing"
            )
    else:
        # 4'. A user with the role gets an answer, not a crash (placeholder kwargs may 404).
        holders = [u for u in ROLE_REPRESENTATIVES if _has_role(session, u, policy)]
        for username in holders[:1]:
            for method in methods:
                response = session.call(username, route, url, method)
                findings.check(response.status_code < 500, username, method, url, response, "no 5xx")
                if policy.roles is None and not route.params and method == "GET":
                    findings.check(
                        response.status_code not in {401, 403, 404}, username, method, url, response,
                        "a signed-in route open to every role",
                    )

    assert not findings, "\n".join(findings)


@pytest.mark.parametrize(
    "route", [r for r in ALL_ROUTES if not r.name and not r.delegated and _twin_of(r)], ids=lambda r: r.route
)
def test_slash_twins_refuse_anonymous_users_like_their_named_route(route, session):  # noqa: ANN001
    named = _twin_of(route)
    policy = POLICY.get(named.name)
    if policy is None or not policy.login:
        pytest.skip("public or undeclared (reported by test_every_route_has_a_declared_policy)")
    obj = access_objects.MAKERS[policy.obj](session.world) if policy.obj else None
    url = _url(named, obj) + "/"
    for method in route.methods():
        response = session.call(None, route, url, method)
        assert response.status_code in {401, 405}, (method, url, response.status_code)


# --- lists never leak foreign rows ------------------------------------------------------


def _ids(payload: Any) -> set[Any]:
    rows = payload.get("results", []) if isinstance(payload, dict) else payload
    return {row.get("id") for row in rows if isinstance(row, dict)}


def _is_list(payload: Any) -> bool:
    return isinstance(payload, list) or (isinstance(payload, dict) and "results" in payload)


@pytest.mark.parametrize("name", sorted(access_objects.LIST_ROUTES))
def test_lists_leak_no_foreign_rows(name, session, django_assert_max_num_queries):  # noqa: ANN001
    kind = access_objects.LIST_ROUTES[name]
    assert name in NAMED and NAMED[name].is_api, f"LIST_ROUTES names an unknown API route: {name}"
    obj = access_objects.MAKERS[kind](session.world)
    obj_id = obj["pk"] if isinstance(obj, dict) else obj.pk
    url = reverse(name)
    policy = POLICY[name]
    seen_by_owner = False
    for username in access_objects.owners(kind):
        if not _has_role(session, username, policy):
            continue
        response = session.call(username, NAMED[name], url, "GET")
        if response.status_code == 200 and obj_id in _ids(response.json()):
            seen_by_owner = True
            break
    assert seen_by_owner, f"no owner of the {kind} sees it in {url}: the check below would prove nothing"
    for username in access_objects.foreign_users(kind):
        client = session.client(username, api=True)
        with django_assert_max_num_queries(30):
            response = client.get(url)
        assert response.status_code in {200, 403, 404}, (username, response.status_code)
        if response.status_code == 200:
            payload = response.json()
            assert _is_list(payload), f"{url} did not answer a list"
            assert obj_id not in _ids(payload), f"{url} shows unit B's {kind} {obj_id} to {username}"


def test_every_api_list_is_declared(session):
    """An API list of organisation-owned rows must be in LIST_ROUTES (or exempt)."""
    undeclared = []
    for name in CHECKED:
        route, policy = NAMED[name], POLICY[name]
        if not route.is_api or route.params or "GET" not in route.methods():
            continue
        if name in access_objects.LIST_ROUTES or name in access_objects.LIST_ROUTES_EXEMPT:
            continue
        if not policy.login:
            continue  # public data (the catalogue) cannot leak
        username = next((u for u in ROLE_REPRESENTATIVES if _has_role(session, u, policy)), None)
        if username is None:
            continue
        response = session.call(username, route, reverse(name), "GET")
        if response.status_code == 200 and "json" in response.get("Content-Type", "") and _is_list(response.json()):
            undeclared.append(name)
    assert not undeclared, (
        f"API lists not declared in tests/access_objects.py LIST_ROUTES (kind of row) or LIST_ROUTES_EXEMPT "
        f"(with a reason): {undeclared}"
    )


def test_makers_build_objects_of_unit_b(world):
    """Each maker builds a saved object (or URL kwargs) of unit B's side."""
    for kind, maker in access_objects.MAKERS.items():
        obj = maker(world)
        if isinstance(obj, dict):
            assert obj, kind
            continue
        assert isinstance(obj, models.Model) and obj.pk, kind
