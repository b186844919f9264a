"""API v1: identity and signing keys."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors, services
from accounts.models import SIGNER_ROLES, SigningKey
from treasury_portal.api import PortalAPIView, created


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
    unit = serializers.RegexField(r"^[0-9]{7}$")
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


class SigningKeyListApi(PortalAPIView):
    """Administrators: the keys of the units they serve (filter by ?status=)."""

    @extend_schema(responses=SigningKeyOutSerializer(many=True), operation_id="signing_keys_list")
    def get(self, request: Request) -> Response:
        keys = selectors.signing_keys_visible(request.user)
        status = request.query_params.get("status")
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
