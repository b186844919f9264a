"""The portal's URLs plus the benchmark's ceiling endpoints (tests/request_cpu_probe.py)."""

from django.urls import include, path

from treasury_portal.urls import *  # noqa: F403
from treasury_portal.urls import urlpatterns as _base

urlpatterns = [*_base, path("bench/", include("vouchers.bench_urls"))]
