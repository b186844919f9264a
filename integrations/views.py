"""Pages of integrator webhooks: the endpoints of the reader's organisations,
registering one (its secret shown once, on the answer to the form), an
endpoint with its deliveries and their attempts, and the buttons its owners
may use (services.can_*). Thin: form → service → page."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import UNIT_ROLES, Role
from integrations import selectors, services
from integrations.forms import DeliveryFilterForm, EndpointFilterForm, EndpointForm
from integrations.models import EndpointStatus
from treasury_portal.errors import ApplicationError
from treasury_portal.pages import role_required
from vouchers.views import paginate

VIEWERS = (*UNIT_ROLES, Role.SUPPLIER_CLERK)
MANAGERS = (*services.UNIT_MANAGERS, Role.SUPPLIER_CLERK)


@role_required(*VIEWERS)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    form = EndpointFilterForm(request.GET or None)
    status = form.cleaned_data.get("status") if form.is_bound and form.is_valid() else None
    page = paginate(request, selectors.endpoint_list(request.user, status=status or None))
    return render(request, "integrations/endpoint_list.html", {
        "form": form, "page": page, "can_create": bool(selectors.manageable_organisations(request.user)),
    })


@role_required(*MANAGERS)
def endpoint_create(request: HttpRequest) -> HttpResponse:
    organisations = selectors.manageable_organisations(request.user)
    if not organisations:
        raise Http404
    form = EndpointForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        v = form.cleaned_data
        try:
            organisation = selectors.access_organisation(request.user, v["organisation"])
            endpoint, secret = services.endpoint_create(
                actor=request.user, organisation=organisation, url=v["url"], event_types=v["event_types"],
                description=v["description"],
            )
        except ApplicationError as exc:
            if exc.http_status in {403, 404}:
                raise
            for field, errors in (exc.fields or {}).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            return _secret_page(request, endpoint, secret, created=True)
    status = 400 if request.method == "POST" else 200
    return render(request, "integrations/endpoint_form.html", {"form": form}, status=status)


def _secret_page(request: HttpRequest, endpoint: object, secret: str, *, created: bool) -> HttpResponse:
    """The one time the secret is shown (the answer to a POST: never reloadable)."""
    return render(request, "integrations/endpoint_secret.html",
                  {"endpoint": endpoint, "secret": secret, "created": created})


@role_required(*VIEWERS)
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.access_endpoint(request.user, pk)
    form = DeliveryFilterForm(request.GET or None)
    status = form.cleaned_data.get("status") if form.is_bound and form.is_valid() else None
    page = paginate(request, selectors.delivery_list(endpoint, status=status or None), size=20)
    user = request.user
    rows = [
        {
            "delivery": d,
            "can_replay": services.can_replay(user, d),
            "attempts": [{"attempt": a, "error": selectors.error_text(a.error)} for a in d.attempt_rows.all()],
        }
        for d in page.rows
    ]
    return render(request, "integrations/endpoint_detail.html", {
        "endpoint": endpoint, "form": form, "page": page, "rows": rows,
        "can_enable": services.can_enable(user, endpoint), "can_disable": services.can_disable(user, endpoint),
        "can_rotate": services.can_manage(user, endpoint.organisation),
        "failing": endpoint.status == EndpointStatus.DISABLED and endpoint.disabled_reason == "failing",
    })


@role_required(*MANAGERS)
@require_POST
def endpoint_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    endpoint = selectors.access_endpoint(request.user, pk)
    if action == "rotate":
        endpoint, secret = services.endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
        return _secret_page(request, endpoint, secret, created=False)
    if action == "disable":
        services.endpoint_disable(actor=request.user, endpoint=endpoint)
        messages.success(request, _("Đã tắt điểm nhận webhook."))
    elif action == "enable":
        services.endpoint_enable(actor=request.user, endpoint=endpoint)
        messages.success(request, _("Đã bật lại điểm nhận webhook; các sự kiện chờ sẽ được gửi tiếp."))
    else:
        raise Http404
    return redirect("webhook-endpoint", pk=endpoint.pk)


@role_required(*MANAGERS)
@require_POST
def delivery_replay(request: HttpRequest, pk: int, delivery_id: int) -> HttpResponse:
    delivery = selectors.access_delivery(request.user, pk, delivery_id)
    try:
        services.delivery_replay(actor=request.user, delivery=delivery)
    except ApplicationError as exc:
        if exc.http_status in {403, 404}:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đã xếp lượt gửi lại; sự kiện sẽ được gửi trong ít giây."))
    return redirect("webhook-endpoint", pk=pk)
