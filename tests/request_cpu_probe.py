"""CPU per request, in-process: what every API request pays (docs/scaling.md).

Not part of the suite (no test_ prefix); run it explicitly:

    python -m pytest -q -p no:randomly tests/request_cpu_probe.py -s

It sends CPU_N (300) requests of each kind through Django's test client and the
whole middleware stack, a Bearer token and the principal cache on as in
production: GET /api/v1/me, GET /api/v1/vouchers?page_size=50 (a preparer),
POST /bench/insert (the ceiling), POST /api/v1/vouchers (create, also with an
Idempotency-Key), and prints time.process_time() per request (median, p10)
with user and system CPU apart (getrusage), appending them to CPU_OUT.
CPU_ONLY=me,create picks kinds; CPU_PROFILE=<kind> writes a pyinstrument
profile (pip install pyinstrument), CPU_PROFILE=c<kind> a cProfile one, to
/tmp; CPU_DEPTH=n runs each request n frames deeper (the frame-stack chunk
effect, docs/scaling.md); CPU_MW_DROP=A,B drops middleware by class name."""

import json
import os
import statistics
import time
import uuid

import pytest
from django.db import connection
from django.test import Client, override_settings

N = int(os.environ.get("CPU_N", "300"))
PROFILE = os.environ.get("CPU_PROFILE", "")  # a kind to profile with pyinstrument


def _measure(name, fn, results):
    only = os.environ.get("CPU_ONLY")
    if only and name not in only.split(","):
        return
    for _ in range(20):
        fn()
    times = []
    prof = None
    cprof = None
    if PROFILE == name:
        from pyinstrument import Profiler

        prof = Profiler(interval=0.0002)
        prof.start()
    if PROFILE == "c" + name:
        import cProfile

        cprof = cProfile.Profile()
        cprof.enable()
    import resource

    depth = int(os.environ.get("CPU_DEPTH", "0"))
    if depth:
        inner = fn

        def deep(k=depth):
            return inner() if k == 0 else deep(k - 1)

        fn = deep
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(N):
        t0 = time.process_time()
        r = fn()
        times.append(time.process_time() - t0)
        assert r.status_code in (200, 201), (name, r.status_code, r.content[:300])
    if cprof:
        cprof.disable()
        import pstats

        with open(f"/tmp/cpu-cprof-{name}.txt", "w") as f:  # noqa: S108 - a scratch report
            st = pstats.Stats(cprof, stream=f)
            st.sort_stats("cumulative").print_stats(120)
            st.sort_stats("tottime").print_stats(50)
    if prof:
        prof.stop()
        with open(f"/tmp/cpu-prof-{name}.txt", "w") as f:  # noqa: S108 - a scratch report
            f.write(prof.output_text(unicode=False, color=False, show_all=True, time="percent_of_total",
                                     processor_options={"filter_threshold": 0.004}))
        with open(f"/tmp/cpu-flat-{name}.txt", "w") as f:  # noqa: S108 - a scratch report
            f.write(prof.output_text(unicode=False, color=False, show_all=True, flat=True,
                                     time="percent_of_total"))
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    times.sort()
    results[name] = (statistics.median(times) * 1e6, times[N // 10] * 1e6,
                     (ru1.ru_utime - ru0.ru_utime) / N * 1e6, (ru1.ru_stime - ru0.ru_stime) / N * 1e6)


@pytest.mark.django_db
def test_request_cpu(world, kit, api):
    from django.core.cache import cache

    from accounts.services import api_token_create
    from vouchers.bench_views import CEILING_TABLE_SQL

    with connection.cursor() as c:
        c.execute(CEILING_TABLE_SQL)
    cache.clear()
    user = world.users["a_preparer"]
    _t, plain = api_token_create(user=user, name="cpu")
    for _ in range(52):
        kit.draft()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
    client = Client()
    anon = Client()
    line = kit.line().pk
    body = json.dumps({
        "unit": kit.unit.code, "procedure": "C2-02a/NS", "mode": "payment", "fiscal_year": kit.fiscal_year,
        "description": "Mua văn phòng phẩm", "payee": {"name": "Công ty Hồng Hà", "account_number": "0123456789",
                                                      "bank_code": "VCB"},
        "lines": [{"budget_line": line, "amount": 100_000, "description": "Dòng 1"}],
    })
    results = {}
    from django.conf import settings

    drop = [m for m in os.environ.get("CPU_MW_DROP", "").split(",") if m]
    mw = [m for m in settings.MIDDLEWARE if not any(m.endswith(d) for d in drop)]
    client = Client()
    with override_settings(API_PRINCIPAL_CACHE_SECONDS=15, ROOT_URLCONF="tests.request_cpu_urls", MIDDLEWARE=mw):
        from django.urls import clear_url_caches

        clear_url_caches()
        _measure("me", lambda: client.get("/api/v1/me", **auth), results)
        _measure("list50", lambda: client.get("/api/v1/vouchers?page_size=50", **auth), results)
        _measure("insert", lambda: anon.post("/bench/insert", json.dumps({"name": "x", "amount": 5}),
                                             content_type="application/json"), results)
        _measure("create", lambda: client.post("/api/v1/vouchers", body, content_type="application/json", **auth),
                 results)
        _measure("create_idem", lambda: client.post("/api/v1/vouchers", body, content_type="application/json",
                                                    HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, **auth), results)
        _measure("create2", lambda: client.post("/api/v1/vouchers", body, content_type="application/json", **auth),
                 results)
    clear_url_caches()
    lines = [f"{k:12s} median {m:8.0f} us   p10 {a:8.0f} us  user {u:7.0f} sys {y:6.0f}"
             for k, (m, a, u, y) in results.items()]
    if "insert" in results and "create" in results:
        lines.append(f"create/insert ratio (by median CPU): {results['insert'][0] / results['create'][0]:.3f}")
    out = "\n".join(lines)
    print(out)
    with open(os.environ.get("CPU_OUT", "/tmp/cpu-results.txt"), "a") as f:  # noqa: S108 - a scratch report
        f.write(os.environ.get("CPU_LABEL", "") + "\n" + out + "\n")
