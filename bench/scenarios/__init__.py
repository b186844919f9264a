"""The benchmark's scenarios. Each declares the routes (or code) it needs; when
they do not exist yet it is reported as "not available" — never a made-up number
— and it is picked up automatically once they exist."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.config import Scale


@dataclass
class Context:
    scale: Scale
    base_url: str
    state: dict[str, Any]  # bench.seed.SeedResult.as_dict()
    dsn: str
    log: Callable[[str], None]
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(7))  # noqa: S311 - load mix, not secrets
    shared: dict[str, Any] = field(default_factory=dict)  # e.g. the lifecycle's paid vouchers for the PDF run

    def db(self) -> Any:
        import psycopg2

        return psycopg2.connect(self.dsn)


@dataclass
class Scenario:
    name: str
    title: str
    target: str
    run: Callable[[Context], dict[str, Any]]
    routes: tuple[str, ...] = ()  # paths that must resolve (with a sample id where needed)
    code: tuple[str, ...] = ()  # "module:attribute" that must import
    check: Callable[[], str | None] | None = None  # a further availability check
    kind: str = "load"  # "load" (HTTP through gunicorn) or "worker" (Celery) or "inprocess"

    def missing(self) -> str | None:
        """Why the scenario cannot run yet, or None."""
        from django.urls import Resolver404, resolve

        for path in self.routes:
            try:
                resolve(path)
            except Resolver404:
                return f"route {path} does not exist yet"
        for dotted in self.code:
            module, _sep, attr = dotted.partition(":")
            try:
                mod = __import__(module, fromlist=[attr or "x"])
            except ImportError as exc:
                return f"{module} cannot be imported yet ({exc})"
            if attr and not hasattr(mod, attr):
                return f"{module}.{attr} does not exist yet"
        return self.check() if self.check else None


def all_scenarios() -> list[Scenario]:
    from bench.scenarios import autopay, ceiling, dashboard, documents, notifications, vouchers

    return [
        *ceiling.SCENARIOS,
        *vouchers.SCENARIOS,
        *dashboard.SCENARIOS,
        *notifications.SCENARIOS,
        *documents.SCENARIOS,
        # Last: its balance-change notifications would otherwise queue behind
        # the other worker scenarios.
        *autopay.SCENARIOS,
    ]
