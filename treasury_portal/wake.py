"""A wake-up gate: queue a drain task at most once per period across processes.

An outbox (notification rows, payment intents) is drained by a task; the
writers wake it when they commit. Publishing one Celery message per write costs
a broker connection and a task run each, so a writer asks the gate first:
skipped without a round trip when this process opened it less than `period`
ago, then one `SET NX EX` in the cache decides across processes. Rows committed
while the gate is shut are taken by the next wake-up or by the beat's sweep.
Without a cache the gate opens (the drain tasks are safe to run twice).
"""

import logging
import time

logger = logging.getLogger(__name__)


class WakeGate:
    """One per outbox (its cache key); `last` is this process's last opening."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.last = 0.0  # time.monotonic() of this process's last opening

    def open(self, period: int) -> bool:
        """True at most once per `period` seconds across processes. A process
        the shared gate refused does not wait out a debounce of its own: its
        next call after the gate opens may open it."""
        from django.core.cache import cache

        now = time.monotonic()
        if now - self.last < period:
            return False  # this process opened it: the woken run takes this commit
        try:
            if not cache.add(self.key, 1, timeout=period):
                return False  # another process opened it within the period
        except Exception:  # noqa: BLE001 - no cache: open, the drain is safe to run twice
            logger.warning("wake-up gate %s unavailable", self.key, exc_info=True)
        self.last = now
        return True

    def wake(self, task, period: int, send) -> None:  # noqa: ANN001
        """Queue `task` through `send` (payments.tasks.enqueue: never fails the
        caller) when the gate opens, telling it when the gate opens again (its
        `gate_until`, epoch seconds: see `run_woken`). With eager tasks (tests,
        the embedded default) there is no broker to spare: at every call."""
        if task.app.conf.task_always_eager:
            send(task)
        elif self.open(period):
            send(task, time.time() + period)


def run_woken(work, gate_until: float | None, period: int) -> list:  # noqa: ANN001
    """A woken task's body: `work()`, and once more when the gate that woke it
    opens again (`gate_until`, at most `period` seconds ahead), for what
    committed while it was shut; without `gate_until` (the beat's sweep, eager
    runs) once. The results of each run."""
    results = [work()]
    wait = gate_until - time.time() if gate_until else 0
    if 0 < wait <= period:
        time.sleep(wait + 0.05)
        results.append(work())
    return results
