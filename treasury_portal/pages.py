"""What every page shares: role decorators, the home page's sections, and the
middleware that turns a service's ApplicationError into a page response."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.module_loading import import_string

from treasury_portal.errors import ApplicationError, NotFound
from treasury_portal.errors import PermissionDenied as AppPermissionDenied


def has_role(user, *roles: str) -> bool:  # noqa: ANN001
    """settings.PORTAL_ROLE_CHECK (accounts.selectors.has_role)."""
    return import_string(settings.PORTAL_ROLE_CHECK)(user, *roles)


def is_treasury_admin(user) -> bool:  # noqa: ANN001
    """settings.PORTAL_ADMIN_CHECK (accounts.selectors.is_treasury_admin)."""
    return import_string(settings.PORTAL_ADMIN_CHECK)(user)


def role_required(*roles: str) -> Callable:
    """A page for holders of one of `roles` (in any organisation); others get 404,
    so a page never confirms that something exists for the wrong person."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, *roles):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def treasury_admin_required(view: Callable) -> Callable:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_treasury_admin(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def home_sections(request: HttpRequest) -> list[dict]:
    """Each app contributes what the user can act on (settings.PORTAL_HOME_SECTIONS)."""
    sections = []
    for dotted in settings.PORTAL_HOME_SECTIONS:
        section = import_string(dotted)(request)
        if section:
            # Every key the template reads: a missing "items" would make the
            # template's `s.items` call dict.items() and list the section's own keys.
            sections.append({"count": None, "text": "", "url": "", "items": [], **section})
    return sections


class ApplicationErrorMiddleware:
    """NotFound → 404 page; PermissionDenied → 403; any other refusal goes back to
    the page the user came from with the sentence as an error message."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/") or not isinstance(exc, ApplicationError):
            return None
        if isinstance(exc, NotFound):
            raise Http404 from exc
        if isinstance(exc, AppPermissionDenied):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
        referer = request.headers.get("Referer", "")
        if referer and url_is_local(request, referer):
            return redirect(referer)
        return redirect("home")


def url_is_local(request: HttpRequest, url: str) -> bool:
    """`url` stays on this site (no other host, no `//host`, `/\\host`, `javascript:`…;
    https only when the request came over https). The one check of every
    redirect target read from a request: `next`, the Referer, a notification's link."""
    from django.utils.http import url_has_allowed_host_and_scheme

    return url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure())


def next_url(request: HttpRequest) -> str:
    """The request's `next` (form field, else query parameter) when it stays on
    this site (url_is_local), else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if url_is_local(request, target) else ""


def redirect_next(request: HttpRequest, fallback: str, *args: Any) -> HttpResponse:
    """Back to the request's safe `next`, else to the URL named `fallback`."""
    from django.urls import reverse

    return redirect(next_url(request) or reverse(fallback, args=args))
