"""The portal's Redis cache, which degrades instead of failing a request.

Redis holds the working-day calendar, allauth's rate limits and TOTP "code
used" markers. When Redis does not answer (stopped, restarting, network), every
cache call falls back to a local-memory cache of this process, so a submission,
a preflight or a sign-in still works:

- the calendar is read from the database and kept in local memory;
- the rate limits still limit, per process instead of across processes (with
  N gunicorn workers an address gets at most N times its allowance while Redis
  is down) — they never fail open;
- a warning is logged once per outage, and Redis is tried again after
  `RETRY_SECONDS` (in between, calls go straight to local memory and cost
  nothing). A value written during the outage lives only in that process.

Only connection and timeout errors fall back; any other Redis error is a bug
and is raised.
"""

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


class _Outage:
    """Per process and server: until when Redis is skipped."""

    def __init__(self) -> None:
        self.retry_at = 0.0
        self.down = False
        self.lock = threading.Lock()


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_for(location: str) -> _Outage:
    with _outages_lock:
        return _outages.setdefault(location, _Outage())


def _delegating(name: str):  # noqa: ANN202
    def method(self: "ResilientRedisCache", *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        return self._call(name, getattr(RedisCache, name), *args, **kwargs)

    method.__name__ = name
    return method


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client, keeping one `redis.Redis` per connection pool.

    Django builds a new `redis.Redis` for every cache call (`get_client`), and
    redis-py's constructor copies its ~200 response callbacks into a
    case-insensitive dict each time: about half the CPU of a cache hit (~100 µs
    of the principal cache's read, every API request). A `redis.Redis` holds no
    connection of its own (each command takes one from the pool and gives it
    back) and is safe to share between threads; the pool notices a fork and
    reconnects, so a client made before gunicorn forks stays usable."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:  # noqa: ANN401
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    RETRY_SECONDS = 5.0

    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
        self._location = server if isinstance(server, str) else ",".join(server)
        self._outage = _outage_for(self._location)
        # LocMemCache keeps its data per name in the module: every thread's
        # instance of this cache shares one fallback store in the process.
        self._fallback = LocMemCache(
            f"redis-fallback:{self._location}",
            {"TIMEOUT": params.get("TIMEOUT", 300), "KEY_PREFIX": params.get("KEY_PREFIX", ""),
             "VERSION": params.get("VERSION", 1), "OPTIONS": {"MAX_ENTRIES": 10_000}},
        )

    @property
    def redis_available(self) -> bool:
        """False while an outage is being waited out (calls use local memory)."""
        return time.monotonic() >= self._outage.retry_at

    def _call(self, name: str, redis_method: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        """`redis_method(self, …)` if Redis answers, else the local memory's `name`."""
        outage = self._outage
        if time.monotonic() >= outage.retry_at:
            try:
                result = redis_method(self, *args, **kwargs)
            except UNREACHABLE as exc:
                with outage.lock:
                    outage.retry_at = time.monotonic() + self.RETRY_SECONDS
                    first = not outage.down
                    outage.down = True
                if first:
                    logger.warning(
                        "Redis cache %s unreachable (%s): using this process's local memory "
                        "(rate limits per process) until it answers again", self._location, exc.__class__.__name__,
                    )
            else:
                if outage.down:
                    with outage.lock:
                        outage.down = False
                    logger.warning("Redis cache %s answers again", self._location)
                return result
        return getattr(self._fallback, name)(*args, **kwargs)

    add = _delegating("add")
    get = _delegating("get")
    set = _delegating("set")
    touch = _delegating("touch")
    delete = _delegating("delete")
    get_many = _delegating("get_many")
    has_key = _delegating("has_key")
    incr = _delegating("incr")
    set_many = _delegating("set_many")
    delete_many = _delegating("delete_many")
    clear = _delegating("clear")
