"""Production: no default secrets; refuses to start without them."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import REDIS_URL, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("insecure") or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters.")
if not env("DATABASE_URL", default=""):
    raise ImproperlyConfigured("DATABASE_URL must be set in production.")
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set in production.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# Signing keys are installed (`manage.py treasury_certificates`, or files from the
# treasury's CA in TREASURY_PKI_DIR), never created on a request: without its
# office's key a PDF is refused (accounts.pki.SigningKeyMissing), not left unsigned.
TREASURY_PKI_AUTOCREATE = False
if not env("SITE_URL", default="") and not env("SITE_BASE_URL", default=""):
    # Links in e-mails and the QR code of the result PDFs would point at 127.0.0.1.
    raise ImproperlyConfigured("SITE_URL must be set in production (e.g. https://dichvucong.kbnn.example).")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# SMTP through MAILERS (base.py); the server's settings are the SMTP backend's
# OPTIONS, which another backend (EMAIL_BACKEND=...) would refuse as unknown.
# (Lower-case names: not settings.)
mail_backend = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
smtp_options = {
    "host": env("EMAIL_HOST", default="localhost"),
    "port": env.int("EMAIL_PORT", default=25),
    "username": env("EMAIL_HOST_USER", default=""),
    "password": env("EMAIL_HOST_PASSWORD", default=""),
    "use_tls": env.bool("EMAIL_USE_TLS", default=False),
    "timeout": env.int("EMAIL_TIMEOUT", default=30),  # a hung server must not hold a worker forever
}
MAILERS = {
    "default": {
        "BACKEND": mail_backend,
        "OPTIONS": smtp_options if mail_backend == "django.core.mail.backends.smtp.EmailBackend" else {},
    }
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}  # noqa: F405

# Integrator webhooks: https only, never a private-network address (SSRF; docs/webhooks.md).
WEBHOOKS_ALLOW_HTTP = False
WEBHOOKS_ALLOW_PRIVATE = False
