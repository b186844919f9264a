FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=treasury_portal.settings.production
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-noto-core gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY treasury_portal ./treasury_portal
COPY accounts ./accounts
COPY vouchers ./vouchers
COPY payments ./payments
RUN pip install --no-cache-dir .
COPY . .
RUN SECRET_KEY=build-only-not-secret-build-only-not-secret-build-only-xx \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL=redis://localhost ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
 && (python manage.py compilemessages -v0 || true)
RUN useradd --create-home portal && mkdir -p /app/var/private && chown -R portal /app/var
USER portal
EXPOSE 8000
# gunicorn.conf.py: sync workers (2 × cores + 1, GUNICORN_WORKERS overrides), preload, recycling (docs/scaling.md).
CMD ["gunicorn", "-c", "gunicorn.conf.py", "treasury_portal.wsgi:application"]
