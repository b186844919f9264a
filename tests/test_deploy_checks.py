"""Production settings: `check --deploy` is clean, and missing secrets stop the start.

Each check runs `manage.py` in a subprocess with a clean environment, as a
deployment would start it (settings are read once per process)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "treasury_portal.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "DATABASE_URL": "postgres://portal:secret@db.internal:5432/treasury",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "ALLOWED_HOSTS": "dichvucong.kbnn.example",
    "SITE_URL": "https://dichvucong.kbnn.example",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(BASE_DIR)),
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR, env={**base, **env}, capture_output=True, text=True, timeout=120, check=False,
    )


def _dotenv_defines(name: str) -> bool:
    dotenv = BASE_DIR / ".env"
    return dotenv.exists() and any(line.strip().startswith(f"{name}=") for line in dotenv.read_text().splitlines())


def test_check_deploy_with_production_settings_prints_no_warning():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in result.stdout, output
    assert "WARNING" not in output.upper(), output


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "SITE_URL"])
def test_production_refuses_to_start_without_its_secrets(missing):
    if _dotenv_defines(missing):
        pytest.skip(f".env defines {missing}; production reads it as a default")
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr, result.stderr
    assert missing in result.stderr, result.stderr


@pytest.mark.parametrize("weak", ["short", "django-insecure-" + "x" * 60, "insecure-" + "y" * 60])
def test_production_refuses_a_weak_secret_key(weak):
    result = _manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": weak})
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set" in result.stderr, result.stderr


def test_production_mails_through_smtp_from_the_environment():
    """MAILERS["default"] is the SMTP server the EMAIL_* environment variables
    name. Django 6.1 deprecates the EMAIL_* settings, and refuses to start when
    they are defined next to MAILERS."""
    smtp = {"EMAIL_HOST": "smtp.kbnn.example", "EMAIL_PORT": "587", "EMAIL_HOST_USER": "portal",
            "EMAIL_HOST_PASSWORD": "s3cret", "EMAIL_USE_TLS": "true"}
    code = (
        "from django.conf import settings; from django.core.mail import mailers; m = mailers.default; "
        "print(settings.is_overridden('MAILERS'), type(m).__module__, m.host, m.port, m.username, m.use_tls, m.timeout)"
    )
    result = _manage("shell", "-v", "0", "-c", code, env={**PRODUCTION_ENV, **smtp})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True", "django.core.mail.backends.smtp", "smtp.kbnn.example", "587", "portal", "True", "30"
    ], result.stdout
