"""docker-compose.yml: the services users run, accepted by the compose tool."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_defines_the_portal_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "db", "redis"} <= set(services)
    # The production gunicorn settings (workers, preload, recycling), not ad-hoc flags.
    assert "gunicorn -c gunicorn.conf.py" in services["web"]["command"]
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    assert '"-c", "gunicorn.conf.py"' in (ROOT / "Dockerfile").read_text()


@pytest.mark.skipif(not (shutil.which("docker-compose") or shutil.which("docker")), reason="no compose tool installed")
def test_compose_config_accepts_the_file():
    env = {**os.environ, "SECRET_KEY": "x" * 60}
    cmd = (
        ["docker-compose", "config", "-q"] if shutil.which("docker-compose") else ["docker", "compose", "config", "-q"]
    )
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)  # noqa: S603
    assert result.returncode == 0, result.stderr
