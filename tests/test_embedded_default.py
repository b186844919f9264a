"""`make run` with no DATABASE_URL and no REDIS_URL runs on SQLite with tasks
in-process, so a newcomer's first command works anywhere. The rest of the suite
runs on PostgreSQL, so this test replays `make run`'s set-up steps on a fresh
SQLite file in a subprocess (the settings `make run` uses), then signs in a
demo user through the API as an accounting program would."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SMOKE = """
import django
django.setup()
from django.test import Client
from accounts.models import User
from accounts.services import api_token_create

client = Client(HTTP_HOST="127.0.0.1")
assert client.get("/api/v1/procedures").status_code == 200
token = api_token_create(user=User.objects.get(username="a_preparer"), name="smoke")[1]
me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
assert me.status_code == 200, me.content
assert {m["role"] for m in me.json()["memberships"]} == {"preparer"}, me.json()
vouchers = client.get("/api/v1/vouchers", HTTP_AUTHORIZATION=f"Bearer {token}")
assert vouchers.status_code == 200, vouchers.content
assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer tp_not-a-token").status_code == 401
# The leader dashboard and the public satisfaction page on SQLite (percentiles in Python).
from monitoring.dashboard import dashboard
figures = dashboard(User.objects.get(username="approver"))
assert figures["timing"]["closed"] >= 0 and figures["scope"].office.code == "0100", figures
assert client.get("/satisfaction/").status_code == 200
assert client.get("/api/v1/satisfaction").status_code == 200
print("embedded default OK")
"""


def test_make_run_set_up_works_on_sqlite_without_redis(tmp_path: Path) -> None:
    env = {
        key: value for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "treasury_portal.settings.local",
        "PYTHONPATH": str(ROOT),
    }
    for step in (["migrate", "--noinput"], ["createcachetable"], ["seed_demo"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *step], cwd=ROOT, env=env, capture_output=True, text=True, check=False,
            timeout=600,
        )
        assert done.returncode == 0, f"manage.py {' '.join(step)} failed on SQLite:\n{done.stderr[-3000:]}"
    assert "a_preparer" in done.stdout
    smoke = subprocess.run(
        [sys.executable, "-c", SMOKE], cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert smoke.returncode == 0, smoke.stderr[-3000:]
    assert "embedded default OK" in smoke.stdout
