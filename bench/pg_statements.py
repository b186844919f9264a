"""PostgreSQL's own profile of a scenario (`python -m bench.run --profile NAME`):
the statements of the benchmark's database that took the most execution time,
from pg_stat_statements. The extension only counts when the server loads it at
start (`shared_preload_libraries = 'pg_stat_statements'` in postgresql.conf and
a restart): without it the profile says so and the run goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TOP = 15


def begin(dsn: str) -> dict[str, Any]:
    """Create the extension if it can be, and reset its counters; or say why not."""
    import psycopg2

    try:
        conn = psycopg2.connect(dsn)
    except psycopg2.Error as exc:
        return {"available": False, "reason": f"cannot connect: {exc}".strip()}
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW shared_preload_libraries")
            preloaded = cur.fetchone()[0]
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            cur.execute("SELECT pg_stat_statements_reset()")
        return {"available": True, "shared_preload_libraries": preloaded}
    except psycopg2.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        return {"available": False, "reason": f"pg_stat_statements unavailable: {reason}",
                "shared_preload_libraries": locals().get("preloaded")}
    finally:
        conn.close()


def end(state: dict[str, Any], dsn: str, path: Path) -> dict[str, Any]:
    """The top statements since begin() (total execution time), also written to `path`."""
    if not state.get("available"):
        return state
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT calls, total_exec_time, mean_exec_time, rows, query FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "ORDER BY total_exec_time DESC LIMIT %s",
                [TOP],
            )
            rows = cur.fetchall()
    except psycopg2.Error as exc:
        return {"available": False, "reason": f"pg_stat_statements unreadable: {str(exc).strip().splitlines()[0]}"}
    finally:
        conn.close()
    top = [
        {"calls": calls, "total_ms": round(total, 1), "mean_ms": round(mean, 3), "rows": n,
         "query": " ".join(query.split())[:500]}
        for calls, total, mean, n, query in rows
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(
        f"{t['total_ms']:>10} ms {t['calls']:>8} calls {t['mean_ms']:>9} ms/call  {t['query']}\n" for t in top
    ))
    return {"available": True, "top": top, "file": str(path)}
