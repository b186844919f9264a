"""The test settings' cache: one Redis database shared by the xdist workers.

Each worker gets its own key prefix (settings/test.py), and `clear()` deletes
only that prefix: Django's RedisCache.clear() flushes the whole database, which
would wipe the other worker's rate-limit counters, TOTP "code used" markers and
Celery queues in the middle of its tests.
"""

from django.core.cache.backends.redis import RedisCache


class WorkerScopedRedisCache(RedisCache):
    def clear(self) -> bool:
        client = self._cache.get_client(None, write=True)
        batch: list = []
        for key in client.scan_iter(match=f"{self.key_prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
        return True
