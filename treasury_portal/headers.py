"""Response headers of the pages and the API (the Content-Security-Policy is
Django's own middleware, configured by SECURE_CSP)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class PrivateCacheMiddleware:
    """`Cache-Control: private, no-store` on every response to a signed-in user
    (a session) or to a request carrying a token (the API): a shared cache or
    the browser's history must not keep a voucher, a balance or a key. Public
    static files never reach this middleware (WhiteNoise answers them first)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if "HTTP_AUTHORIZATION" in request.META or (user is not None and user.is_authenticated):
            patch_cache_control(response, private=True, no_store=True)
            response.headers.pop("Expires", None)
        return response
