from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("account/", views.profile, name="profile"),
    path("account/signing-keys/", views.signing_keys, name="signing-keys"),
    path("account/signing-keys/<int:pk>/revoke/", views.signing_key_revoke, name="signing-key-revoke"),
    path("account/tokens/", views.api_tokens, name="api-tokens"),
    path("account/tokens/<int:pk>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("treasury/signing-keys/", views.signing_key_approvals, name="signing-key-approvals"),
    path("treasury/memberships/", views.memberships, name="memberships"),
    path("treasury/memberships/grant/", views.membership_grant, name="membership-grant"),
    path("treasury/memberships/<int:pk>/revoke/", views.membership_revoke, name="membership-revoke"),
    path("account/absences/", views.absences, name="absences"),
    path("account/absences/<int:pk>/cancel/", views.absence_cancel, name="absence-cancel"),
    path("healthz", views.healthz, name="healthz"),
]
