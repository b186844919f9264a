"""The test settings' cache: one Redis database shared by the xdist workers.

Each worker gets its own key prefix (settings/test.py), and `clear()` deletes
only that prefix: Django's RedisCache.clear() flushes the whole database, which
would wipe the other worker's rate-limit counters, TOTP "code used" markers and
Celery queues in the middle of its tests. It is the portal's resilient cache
(treasury_portal/cache.py), so the tests see the same fallback as production.
"""

from treasury_portal.cache import ResilientRedisCache


def _clear_prefix(cache: "WorkerScopedRedisCache") -> bool:
    client = cache._cache.get_client(None, write=True)
    batch: list = []
    for key in client.scan_iter(match=f"{cache.key_prefix}:*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            client.delete(*batch)
            batch = []
    if batch:
        client.delete(*batch)
    return True


class WorkerScopedRedisCache(ResilientRedisCache):
    def clear(self) -> bool:
        return self._call("clear", _clear_prefix)
