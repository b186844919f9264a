"""API v1: identity, signing keys, memberships (treasury administrators)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors, services
from accounts.models import (
    ABSENCE_ROLES,
    SIGNER_ROLES,
    TREASURY_ROLES,
    UNIT_ROLES,
    Membership,
    SigningKey,
    SigningKeyStatus,
)
from treasury_portal import query as q
from treasury_portal.api import NUMBERED_PAGE_PARAMETERS, PortalAPIView, PortalPagination, created, paginated
from treasury_portal.errors import PermissionDenied


class MembershipSerializer(serializers.Serializer):
    organisation_code = serializers.CharField(source="organisation.code")
    organisation_name = serializers.CharField(source="organisation.name")
    kind = serializers.CharField(source="organisation.kind")
    role = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    full_name = serializers.CharField(source="get_full_name")
    memberships = MembershipSerializer(many=True)


class MeApi(PortalAPIView):
    @extend_schema(responses=MeSerializer, operation_id="me")
    def get(self, request: Request) -> Response:
        user = request.user
        data = MeSerializer(
            {
                "id": user.pk,
                "username": user.username,
                "email": user.email,
                "get_full_name": user.get_full_name(),
                "memberships": selectors.memberships_of(user),
            }
        ).data
        return Response(data)


class SigningKeyOutSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.code")
    user = serializers.CharField(source="user.username")

    class Meta:
        model = SigningKey
        fields = [
            "id",
            "status",
            "role",
            "unit",
            "user",
            "fingerprint",
            "public_key",
            "label",
            "created_at",
            "decided_at",
        ]


class SigningKeyInSerializer(serializers.Serializer):
    public_key = serializers.CharField(max_length=64)
    role = serializers.ChoiceField(choices=sorted(SIGNER_ROLES))
    unit = serializers.RegexField(r"^[0-9]{7}\Z", trim_whitespace=False)
    label = serializers.CharField(max_length=100, required=False, allow_blank=True)


class MySigningKeysApi(PortalAPIView):
    @extend_schema(responses=SigningKeyOutSerializer(many=True), operation_id="me_signing_keys_list")
    def get(self, request: Request) -> Response:
        keys = selectors.signing_keys_visible(request.user).filter(user=request.user)
        return Response(SigningKeyOutSerializer(keys, many=True).data)

    @extend_schema(
        request=SigningKeyInSerializer, responses={201: SigningKeyOutSerializer}, operation_id="me_signing_keys_create"
    )
    def post(self, request: Request) -> Response:
        data = SigningKeyInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        unit = selectors.access_unit(request.user, data.validated_data["unit"])
        key = services.signing_key_register(
            actor=request.user,
            unit=unit,
            role=data.validated_data["role"],
            public_key=data.validated_data["public_key"],
            label=data.validated_data.get("label", ""),
        )
        return created(SigningKeyOutSerializer(key).data)


SIGNING_KEY_STATUS = q.choice("status", SigningKeyStatus.values)
ORGANISATION = q.text("organisation", "Office (4 digits) or unit (7 digits) code", pattern=r"^[0-9]{4}$|^[0-9]{7}$",
                      max_length=7)
USERNAME = q.text("user", "Username", pattern=r"^[\w.@+\-]+$", max_length=150)


class SigningKeyListApi(PortalAPIView):
    """Administrators: the keys of the units they serve (filter by ?status=)."""

    @extend_schema(responses=SigningKeyOutSerializer(many=True), operation_id="signing_keys_list",
                   parameters=[SIGNING_KEY_STATUS.schema()])
    def get(self, request: Request) -> Response:
        status = SIGNING_KEY_STATUS.read(request)
        keys = selectors.signing_keys_visible(request.user)
        if status:
            keys = keys.filter(status=status)
        return Response(SigningKeyOutSerializer(keys[:500], many=True).data)


class _SigningKeyActionApi(PortalAPIView):
    action_fn = staticmethod(services.signing_key_approve)

    @extend_schema(request=None, responses=SigningKeyOutSerializer)
    def post(self, request: Request, pk: int) -> Response:
        key = type(self).action_fn(actor=request.user, key_id=pk)
        return Response(SigningKeyOutSerializer(key).data)


class SigningKeyApproveApi(_SigningKeyActionApi):
    action_fn = staticmethod(services.signing_key_approve)


class SigningKeyRejectApi(_SigningKeyActionApi):
    action_fn = staticmethod(services.signing_key_reject)


class SigningKeyRevokeApi(_SigningKeyActionApi):
    action_fn = staticmethod(services.signing_key_revoke)


# --- memberships (treasury administrators) ---------------------------------------


class MembershipOutSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username")
    full_name = serializers.CharField(source="user.get_full_name")
    organisation = serializers.CharField(source="organisation.code")
    organisation_name = serializers.CharField(source="organisation.name")
    kind = serializers.CharField(source="organisation.kind")

    class Meta:
        model = Membership
        fields = ["id", "user", "full_name", "organisation", "organisation_name", "kind", "role", "is_active",
                  "created_at"]


class MembershipInSerializer(serializers.Serializer):
    user = serializers.CharField(max_length=150, help_text="username")
    organisation = serializers.RegexField(
        r"^(?:[0-9]{4}|[0-9]{7})\Z", trim_whitespace=False, help_text="office (4 digits) or unit (7 digits)"
    )
    role = serializers.ChoiceField(choices=sorted(UNIT_ROLES | TREASURY_ROLES))


def _administrator(request: Request) -> None:
    if not selectors.is_treasury_admin(request.user):
        raise PermissionDenied(_("Chỉ quản trị kho bạc quản lý người dùng và vai trò."))


class MembershipListApi(PortalAPIView):
    """Administrators: the current memberships of the offices and units they
    manage (?organisation=code, ?user=username); POST gives a role."""

    @extend_schema(
        responses=paginated(MembershipOutSerializer),
        parameters=[ORGANISATION.schema(), USERNAME.schema(), *NUMBERED_PAGE_PARAMETERS],
        operation_id="memberships_list",
    )
    def get(self, request: Request) -> Response:
        _administrator(request)
        organisation, username = ORGANISATION.read(request), USERNAME.read(request)
        rows = selectors.memberships_managed(request.user)
        if organisation:
            rows = rows.filter(organisation__code=organisation)
        if username:
            rows = rows.filter(user__username=username)
        paginator = PortalPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(MembershipOutSerializer(page, many=True).data)

    @extend_schema(
        request=MembershipInSerializer, responses={201: MembershipOutSerializer}, operation_id="memberships_create"
    )
    def post(self, request: Request) -> Response:
        _administrator(request)
        data = MembershipInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organisation = selectors.access_manageable_organisation(request.user, data.validated_data["organisation"])
        person = selectors.access_manageable_user(request.user, data.validated_data["user"])
        membership = services.membership_grant(
            actor=request.user, user=person, organisation=organisation, role=data.validated_data["role"]
        )
        return created(MembershipOutSerializer(membership).data)


class MembershipRevokeApi(PortalAPIView):
    @extend_schema(request=None, responses=MembershipOutSerializer, operation_id="memberships_revoke")
    def post(self, request: Request, pk: int) -> Response:
        _administrator(request)
        membership = selectors.access_membership(request.user, pk)
        membership = services.membership_revoke(actor=request.user, membership_id=membership.pk)
        return Response(MembershipOutSerializer(membership).data)


# --- out-of-office with a delegate ---------------------------------------------------

ABSENCE_ROLE_CHOICES = [str(r) for r in ABSENCE_ROLES]


class AbsenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.CharField(source="user.username")
    user_name = serializers.CharField(source="user.get_full_name")
    delegate = serializers.CharField(source="delegate.username")
    delegate_name = serializers.CharField(source="delegate.get_full_name")
    office = serializers.CharField(source="office.code")
    role = serializers.ChoiceField(choices=ABSENCE_ROLE_CHOICES)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    note = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancelled_by = serializers.CharField(source="cancelled_by.username", allow_null=True, default=None)


class AbsenceInSerializer(serializers.Serializer):
    user = serializers.CharField(max_length=150, required=False,
                                 help_text="username of the absent officer (default: the caller; a leader may name "
                                 "an officer of their office)")
    delegate = serializers.CharField(max_length=150, help_text="username of the delegate: same office, same role")
    role = serializers.ChoiceField(choices=ABSENCE_ROLE_CHOICES)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(help_text="included; not before starts_on, not in the past")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


def _absence_role(request: Request) -> None:
    if not selectors.has_role(request.user, *ABSENCE_ROLES):
        raise PermissionDenied(_("Chỉ cán bộ kiểm soát và lãnh đạo phê duyệt khai báo vắng mặt."))


class AbsenceListApi(PortalAPIView):
    """Control officers and approvers: their own absences, those where they are the
    delegate, and (leaders) those of their offices; POST declares one."""

    @extend_schema(responses=paginated(AbsenceSerializer), parameters=[*NUMBERED_PAGE_PARAMETERS],
                   operation_id="absences_list")
    def get(self, request: Request) -> Response:
        _absence_role(request)
        paginator = PortalPagination()
        page = paginator.paginate_queryset(selectors.absences_visible(request.user), request, view=self)
        return paginator.get_paginated_response(AbsenceSerializer(page, many=True).data)

    @extend_schema(
        request=AbsenceInSerializer, responses={201: AbsenceSerializer}, operation_id="absences_create",
        description="409 invalid_period, delegate_not_colleague, absence_overlap, delegate_absent; 404 for a user "
        "or delegate the caller may not name.",
    )
    def post(self, request: Request) -> Response:
        _absence_role(request)
        data = AbsenceInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        person = selectors.access_colleague(request.user, v["user"]) if v.get("user") else request.user
        delegate = selectors.access_colleague(request.user, v["delegate"], delegate=True)
        absence = services.absence_create(
            actor=request.user, user=person, delegate=delegate, role=v["role"], starts_on=v["starts_on"],
            ends_on=v["ends_on"], note=v["note"],
        )
        return created(AbsenceSerializer(selectors.access_absence(request.user, absence.pk)).data)


class AbsenceCancelApi(PortalAPIView):
    @extend_schema(request=None, responses=AbsenceSerializer, operation_id="absences_cancel",
                   description="The absent officer, whoever declared it or a leader of its office; a repeat "
                   "answers the cancelled absence; 409 absence_over once it has ended.")
    def post(self, request: Request, pk: int) -> Response:
        _absence_role(request)
        absence = selectors.access_absence(request.user, pk)
        services.absence_cancel(actor=request.user, absence=absence)
        return Response(AbsenceSerializer(selectors.access_absence(request.user, pk)).data)
