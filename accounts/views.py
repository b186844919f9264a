"""Pages of the accounts app: home, account, signing keys, API tokens,
memberships (treasury administrators), absences with a delegate, health."""

from urllib.parse import urlencode

import redis
from allauth.account.decorators import reauthentication_required
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import selectors, services
from accounts.forms import AbsenceForm, ApiTokenForm, MembershipGrantForm, SigningKeyForm
from accounts.models import ABSENCE_ROLES, ROLES_BY_KIND, SIGNER_ROLES, Organisation, OrgKind, Role, SigningKeyStatus
from treasury_portal.errors import ApplicationError, NotFound
from treasury_portal.pages import home_sections, redirect_next, treasury_admin_required


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/home.html", {"sections": home_sections(request)})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/profile.html",
        {
            "memberships": selectors.memberships_of(request.user),
            "has_totp": Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP).exists(),
            "requires_mfa": selectors.requires_mfa(request.user),
        },
    )


@login_required
@reauthentication_required
def signing_keys(request: HttpRequest) -> HttpResponse:
    signer_memberships = [m for m in selectors.memberships_of(request.user) if m.role in SIGNER_ROLES]
    form = SigningKeyForm(request.POST or None, signer_memberships=signer_memberships)
    if request.method == "POST" and form.is_valid():
        code, role = form.cleaned_data["unit_role"].split(":", 1)
        try:
            unit = selectors.access_unit(request.user, code)
            services.signing_key_register(
                actor=request.user,
                unit=unit,
                role=role,
                public_key=form.cleaned_data["public_key"],
                label=form.cleaned_data["label"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Đã đăng ký khóa ký. Khóa có hiệu lực khi kho bạc duyệt."))
            return redirect("signing-keys")
    keys = selectors.signing_keys_visible(request.user).filter(user=request.user)
    return render(
        request, "accounts/signing_keys.html", {"form": form, "keys": keys, "can_register": bool(signer_memberships)}
    )


@login_required
@require_POST
def signing_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    services.signing_key_revoke(actor=request.user, key_id=pk)
    messages.success(request, _("Đã thu hồi khóa."))
    return redirect_next(request, "signing-keys")


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    plaintext = None
    if request.method == "POST" and form.is_valid():
        _token, plaintext = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        form = ApiTokenForm()
    return render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "tokens": selectors.api_tokens_of(request.user), "plaintext": plaintext},
    )


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    services.api_token_revoke(actor=request.user, token_id=pk)
    messages.success(request, _("Đã thu hồi token."))
    return redirect("api-tokens")


@treasury_admin_required
def signing_key_approvals(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        action = request.POST.get("action")
        fn = {"approve": services.signing_key_approve, "reject": services.signing_key_reject}.get(action or "")
        if fn is not None:
            try:
                fn(actor=request.user, key_id=int(request.POST.get("key_id", "0")))
                messages.success(request, _("Đã cập nhật khóa ký."))
            except (ApplicationError, ValueError) as exc:
                messages.error(request, getattr(exc, "message", _("Yêu cầu không hợp lệ.")))
        return redirect("signing-key-approvals")
    keys = selectors.signing_keys_visible(request.user).filter(
        unit__in=selectors.visible_units(request.user, roles={Role.ADMINISTRATOR})
    )
    return render(
        request,
        "accounts/signing_key_approvals.html",
        {
            "pending": keys.filter(status=SigningKeyStatus.PENDING),
            "approved": keys.filter(status=SigningKeyStatus.APPROVED),
        },
    )


# --- memberships (treasury administrators) -----------------------------------------


def _memberships_context(request: HttpRequest, org: Organisation | None, form: MembershipGrantForm | None = None,
                         error: str = "") -> dict:
    if org is None:
        return {"org": None}
    roles = sorted(ROLES_BY_KIND[OrgKind(org.kind)], key=list(Role).index)
    return {
        "org": org,
        "members": selectors.memberships_managed(request.user).filter(organisation=org),
        "places": selectors.signer_places(org),
        "events": selectors.membership_events_of(org),
        "form": form or MembershipGrantForm(initial={"org": org.code}, roles=roles),
        "error": error,
    }


def _memberships_response(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    """htmx swaps the panel (always with 200: htmx does not swap an error
    status); a plain form post gets the whole page."""
    if request.htmx:
        return render(request, "accounts/_memberships_panel.html", context)
    return render(request, "accounts/memberships.html", context, status=status)


@treasury_admin_required
@require_GET
def memberships(request: HttpRequest) -> HttpResponse:
    """Find an office or unit by its code, then see and change who holds which role there."""
    code = request.GET.get("org", "").strip()
    org = selectors.access_manageable_organisation(request.user, code) if code else None
    context = _memberships_context(request, org)
    context["code"] = code
    return render(request, "accounts/memberships.html", context)


@treasury_admin_required
@require_POST
def membership_grant(request: HttpRequest) -> HttpResponse:
    org = selectors.access_manageable_organisation(request.user, request.POST.get("org", "").strip())
    roles = ROLES_BY_KIND[OrgKind(org.kind)]
    form = MembershipGrantForm(request.POST, roles=roles)
    status = 400
    if form.is_valid():
        person = selectors.manageable_users(request.user).filter(username=form.cleaned_data["username"]).first()
        if person is None:
            form.add_error("username", _("Không tìm thấy người dùng này trong phạm vi bạn quản lý."))
        else:
            try:
                services.membership_grant(
                    actor=request.user, user=person, organisation=org, role=form.cleaned_data["role"]
                )
            except ApplicationError as exc:
                if isinstance(exc, NotFound):
                    raise
                form.add_error(None, exc.message)
                status = exc.http_status
            else:
                name = person.get_full_name() or person.username
                role_label = Role(form.cleaned_data["role"]).label
                done = _("Đã giao vai trò %(role)s cho %(name)s.") % {"role": role_label, "name": name}
                messages.success(request, done)
                if not request.htmx:
                    return redirect(f"{reverse('memberships')}?{urlencode({'org': org.code})}")
                form = None
                status = 200
    return _memberships_response(request, _memberships_context(request, org, form), status)


@treasury_admin_required
@require_POST
def membership_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    membership = selectors.access_membership(request.user, pk)
    org = membership.organisation
    status, error = 200, ""
    try:
        services.membership_revoke(actor=request.user, membership_id=membership.pk)
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            raise
        status, error = exc.http_status, exc.message
    else:
        name = membership.user.get_full_name() or membership.user.username
        role_label = membership.get_role_display()
        messages.success(request, _("Đã thu hồi vai trò %(role)s của %(name)s.") % {"role": role_label, "name": name})
        if not request.htmx:
            return redirect(f"{reverse('memberships')}?{urlencode({'org': org.code})}")
    return _memberships_response(request, _memberships_context(request, org, error=error), status)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.REDIS_URL:
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {exc.__class__.__name__}"
    else:
        checks["redis"] = "not configured (tasks run in-process)"
    healthy = all(v == "ok" or v.startswith("not configured") for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)


# --- out-of-office with a delegate ------------------------------------------------------


def _absences_context(request: HttpRequest, form: AbsenceForm | None = None) -> dict:
    user = request.user
    colleagues = selectors.absence_colleagues(user)
    rows = list(selectors.absences_visible(user))
    for absence in rows:
        absence.can_cancel = selectors.can_cancel_absence(user, absence)
    today = timezone.localdate()
    return {
        "form": form or AbsenceForm(people=colleagues["people"], delegates=colleagues["delegates"],
                                    initial={"user": user.username, "starts_on": today, "ends_on": today}),
        "mine": [a for a in rows if a.user_id == user.pk],
        "delegations": [a for a in rows if a.delegate_id == user.pk],
        "office": [a for a in rows if user.pk not in (a.user_id, a.delegate_id)],
        "is_leader": selectors.has_role(user, Role.APPROVER),
        "today": today,
    }


@login_required
def absences(request: HttpRequest) -> HttpResponse:
    """Control officers and approvers: their absences with a delegate, those they
    stand in for, and (leaders) their offices' absences; declare one (a leader: also
    for an officer of the office)."""
    if not selectors.has_role(request.user, *ABSENCE_ROLES):
        raise Http404
    if request.method != "POST":
        return render(request, "accounts/absences.html", _absences_context(request))
    colleagues = selectors.absence_colleagues(request.user)
    form = AbsenceForm(request.POST, people=colleagues["people"], delegates=colleagues["delegates"])
    if form.is_valid():
        data = form.cleaned_data
        try:
            absence = services.absence_create(
                actor=request.user, user=selectors.access_colleague(request.user, data["user"]),
                delegate=selectors.access_colleague(request.user, data["delegate"], delegate=True),
                role=data["role"], starts_on=data["starts_on"], ends_on=data["ends_on"], note=data["note"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Đã ghi lịch vắng mặt của %(name)s từ %(start)s đến %(end)s; người thay: "
                                        "%(delegate)s.") % {
                "name": absence.user.get_full_name() or absence.user.username,
                "start": absence.starts_on.strftime("%d/%m/%Y"), "end": absence.ends_on.strftime("%d/%m/%Y"),
                "delegate": absence.delegate.get_full_name() or absence.delegate.username,
            })
            return redirect("absences")
    return render(request, "accounts/absences.html", _absences_context(request, form), status=400)


@login_required
@require_POST
def absence_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    if not selectors.has_role(request.user, *ABSENCE_ROLES):
        raise Http404
    try:
        absence = selectors.access_absence(request.user, pk)
    except NotFound:
        raise Http404 from None
    try:
        services.absence_cancel(actor=request.user, absence=absence)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đã hủy lịch vắng mặt."))
    return redirect("absences")
