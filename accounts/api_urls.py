from accounts import apis
from treasury_portal.api import api_path

urlpatterns = [
    *api_path("me", apis.MeApi.as_view(), "api-me"),
    *api_path("me/signing-keys", apis.MySigningKeysApi.as_view(), "api-my-signing-keys"),
    *api_path("signing-keys", apis.SigningKeyListApi.as_view(), "api-signing-keys"),
    *api_path("signing-keys/<int:pk>/approve", apis.SigningKeyApproveApi.as_view(), "api-signing-key-approve"),
    *api_path("signing-keys/<int:pk>/reject", apis.SigningKeyRejectApi.as_view(), "api-signing-key-reject"),
    *api_path("signing-keys/<int:pk>/revoke", apis.SigningKeyRevokeApi.as_view(), "api-signing-key-revoke"),
    *api_path("memberships", apis.MembershipListApi.as_view(), "api-memberships"),
    *api_path("memberships/<int:pk>/revoke", apis.MembershipRevokeApi.as_view(), "api-membership-revoke"),
    *api_path("absences", apis.AbsenceListApi.as_view(), "api-absences"),
    *api_path("absences/<int:pk>/cancel", apis.AbsenceCancelApi.as_view(), "api-absence-cancel"),
]
