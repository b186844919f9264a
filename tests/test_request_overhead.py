"""What every request pays, kept small (issue 15 part 3, "CPU per voucher"):
the API's routes are tried first, and a cache call builds no Redis client."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve


def _routes(patterns: list, prefix: str = "") -> list[str]:
    out = []
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            out.extend(_routes(p.url_patterns, route))
        elif isinstance(p, URLPattern):
            out.append(route)
    return out


def test_the_api_routes_come_first_and_no_page_route_is_under_api():  # noqa: ANN201
    first, *rest = get_resolver().url_patterns
    assert str(first.pattern) == "api/v1/"
    # Moving the API first changes nothing only while no page route starts with api/.
    assert [r for r in _routes(rest) if r.startswith("api/v1")] == []
    assert resolve("/api/v1/me").url_name == "api-me"
    assert resolve("/api/v1/vouchers").url_name == "api-vouchers"


@pytest.mark.skipif("not __import__('django.conf').conf.settings.REDIS_URL", reason="Redis only")
def test_the_redis_cache_reuses_its_client():  # noqa: ANN201
    from django.core.cache import cache

    client = cache._cache.get_client("k")
    assert cache._cache.get_client("k") is client
    assert cache._cache.get_client("k", write=True) is client  # one server: one pool, one client
    cache.set("overhead-probe", {"a": 1}, 5)
    assert cache.get("overhead-probe") == {"a": 1}
    cache.delete("overhead-probe")
