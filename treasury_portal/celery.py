"""The Celery app. Reliability settings live in settings/base.py (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treasury_portal.settings.local")

app = Celery("treasury_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
