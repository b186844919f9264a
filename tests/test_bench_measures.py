"""The benchmark measures honestly (issue 15):

- PostgreSQL's CPU is sampled per backend while a scenario runs, so a
  connection that closes mid-scenario still counts, and what no sample saw (a
  connection opened and closed between two samples) is bounded by the
  postmaster's reaped-children CPU (bench.procs.CpuSampler);
- the list ceiling answers the very rows the API's voucher list answers (the same
  columns, joins and row dicts), so the lists' ratio compares like with like;
- a quick run never overwrites the committed full run (bench/results/latest.json),
  and each scenario's machine load is printed with its figures.
"""

import json
import time

import psutil
import psycopg2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory

from bench import report
from bench.procs import CpuSampler, postgres_kind


def _dsn() -> str:
    s = connection.settings_dict
    return (f"host={s['HOST'] or '127.0.0.1'} port={s['PORT'] or 5432} user={s['USER']} "
            f"password={s['PASSWORD'] or ''} dbname={s['NAME']}")


def _busy_connection(dsn: str, rows: int) -> float:
    """Open a connection, make its backend work, close it; the backend's CPU seconds."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM generate_series(1, %s)", [rows])
            cur.execute("SELECT pg_backend_pid()")
            (pid,) = cur.fetchone()
            t = psutil.Process(pid).cpu_times()
            return t.user + t.system
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_backends_that_close_mid_scenario_are_counted() -> None:
    dsn = _dsn()
    sampler = CpuSampler(interval=0.05)
    if sampler.watch_postgres(dsn) is None:
        pytest.skip("PostgreSQL is not on this machine")
    sampler.begin()
    # Long enough to be sampled: each works for well over one interval, then closes.
    used = sum(_busy_connection(dsn, 3_000_000) for _i in range(4))
    cpu = sampler.end()["postgres"]
    assert used > 0.2, used  # the backends did work
    # A start/end snapshot saw none of them (all closed before the end): the
    # sampler counts each up to its last sample, so all but what each used
    # after it (one interval, more when a busy machine delays the sampler);
    # with what the postmaster reaped and no sample saw, all of it (10 ms ticks).
    assert cpu["ours"] >= 0.5 * used, (cpu, used)
    assert cpu["ours"] + cpu["unattributed"] >= used - 0.05, (cpu, used)
    assert cpu["children_exited"] >= 4
    assert cpu["total"] >= cpu["ours"]


@pytest.mark.django_db(transaction=True)
def test_connections_between_two_samples_are_bounded_by_the_reaped_cpu() -> None:
    dsn = _dsn()
    sampler = CpuSampler(interval=5.0)  # no sample between begin and end
    if sampler.watch_postgres(dsn) is None:
        pytest.skip("PostgreSQL is not on this machine")
    sampler.begin()
    used = sum(_busy_connection(dsn, 1_500_000) for _i in range(3))
    time.sleep(0.1)  # the postmaster reaps its children
    cpu = sampler.end()["postgres"]
    assert cpu["ours"] + cpu["unattributed"] >= used - 0.03, (cpu, used)
    assert cpu["unattributed"] >= used - 0.03


def test_process_titles_are_read() -> None:
    db = "treasury_bench"
    assert postgres_kind("postgres: 15/main: postgres treasury_bench 127.0.0.1(5432) idle", db) == "ours"
    assert postgres_kind("postgres: postgres treasury_bench [local] SELECT", db) == "ours"
    assert postgres_kind("postgres: 15/main: postgres test_other 127.0.0.1(5432) idle", db) == "other"
    assert postgres_kind("postgres: 15/main: autovacuum worker treasury_bench", db) == "ours"
    assert postgres_kind("postgres: 15/main: checkpointer", db) == "background"
    assert postgres_kind("postgres: 15/main: logical replication launcher", db) == "background"
    assert postgres_kind("/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main", db) is None


@pytest.mark.django_db
def test_the_list_ceiling_answers_the_apis_rows(world, api) -> None:  # noqa: ANN001
    from vouchers.bench_views import CeilingListView
    from vouchers.tests.kit import Kit, seed

    seed(world)
    kit = Kit(world)
    made = [kit.draft(1_000_000 + n) for n in range(3)] + [kit.submitted(2_000_000 + n) for n in range(3)]
    mine = api("a_preparer").get("/api/v1/vouchers?page_size=100").json()["results"]
    assert {v.id for v in made} <= {row["id"] for row in mine}
    view = CeilingListView.as_view()
    with CaptureQueriesContext(connection) as queries:
        response = view(APIRequestFactory().get("/bench/list"))
    assert response.status_code == 200 and len(queries) == 1  # one statement, the joins in it
    ceiling = {row["id"]: row for row in json.loads(json.dumps(response.data, default=str))["results"]}
    for row in mine:
        if row["id"] in ceiling:
            assert ceiling[row["id"]] == row  # same keys, same values: the same bytes
    assert {v.id for v in made} <= set(ceiling)
    # Keyset by primary key, as a cursor page reads it.
    before = max(ceiling)
    page = view(APIRequestFactory().get(f"/bench/list?before={before}")).data["results"]
    assert page and all(row["id"] < before for row in page)


def _run(mode: str) -> dict:
    return {
        "run": {"mode": mode, "started": "2026-12-06T02:00:00+00:00", "commit": "abc1234",
                "machine": {"cpus": 2, "loadavg_1m_at_start": 3.1}, "gunicorn_workers": 5, "celery_concurrency": 2,
                "scale": {"clients": 16, "duration": 8.0, "warmup": 2.0}, "load_generator": "aiohttp"},
        "scenarios": {
            "notifications": {
                "status": "measured", "per_s": 2000.0, "delivered": 5000, "seconds": 2.5, "still_pending": 0,
                "cpu_web_s": 0.1, "cpu_worker_s": 4.0, "db_cpu_s": 1.5, "worker_cpu_ms_per_delivery": 0.8,
                "db_cpu": {"ours": 1.5, "unattributed": 0.2},
                "machine": {"loadavg_start": [3.1, 2.0, 1.0], "loadavg_end": [4.2, 2.2, 1.1], "busy_cores": 1.9,
                            "bench_cores": 1.4, "other_cores": 0.5},
            },
        },
    }


def test_each_scenario_says_how_loaded_the_machine_was() -> None:
    results = _run("quick")
    results["targets"] = report.judge(results)
    text = report.markdown(results)
    assert "| notifications | 3.1 → 4.2 | 1.9 | 1.4 / 0.5 | 0.1 / 4.0 / 1.5 (+0.2) | 0.8 delivery |" in text
    assert "Other processes took a quarter of a core or more during notifications:" in text


def test_a_quick_run_leaves_the_full_runs_latest_alone(tmp_path) -> None:  # noqa: ANN001
    path, md = report.write(_run("quick"), tmp_path)
    assert path.name.endswith("-quick.json") and md.name == "latest-quick.md"
    assert not (tmp_path / "latest.json").exists() and not (tmp_path / "latest.md").exists()
    path, md = report.write(_run("full"), tmp_path)
    assert md.name == "latest.md" and (tmp_path / "latest.json").exists()
