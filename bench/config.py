"""The two sizes of the benchmark and where it runs."""

import os
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
STATE_DIR = ROOT / "var" / "bench"
SETTINGS = "treasury_portal.settings.bench"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/treasury_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


@dataclass(frozen=True)
class Scale:
    name: str
    units: int
    vouchers: int
    provinces: int  # provincial treasury offices under the central one
    offices_per_province: int  # transaction offices under each province
    lifecycle_units: int  # units with real users, keys and tokens that drive the lifecycle
    notifications: int  # pending outbox rows the worker drains
    pdfs: int  # result PDFs rendered by the project's code and by bare WeasyPrint
    clients: int  # concurrent clients of the load scenarios (performance.md: 16)
    duration: float  # seconds measured per load scenario
    warmup: float  # seconds run before measuring (connections, caches)
    drain_timeout: float  # seconds allowed for the worker to finish queued payments/notifications
    autopay_invoices: int = 10_000  # pending utility invoices the autopay run settles (performance.md: 100,000)
    query_samples: int = 3  # requests per endpoint in the in-process query-count pass

    def as_dict(self) -> dict:
        return asdict(self)


QUICK = Scale(
    name="quick", units=2_000, vouchers=20_000, provinces=63, offices_per_province=11,
    lifecycle_units=16, notifications=5_000, pdfs=4, clients=16, duration=8.0, warmup=2.0,
    drain_timeout=60.0,
)
FULL = Scale(
    name="full", units=95_000, vouchers=1_000_000, provinces=63, offices_per_province=11,
    lifecycle_units=64, notifications=50_000, pdfs=12, clients=16, duration=30.0, warmup=5.0,
    drain_timeout=300.0, autopay_invoices=100_000,
)


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
