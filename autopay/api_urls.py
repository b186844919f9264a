from autopay import apis as autopay
from treasury_portal.api import api_path

urlpatterns = [
    # automatic utility payments (autopay)
    *api_path("authorizations", autopay.AuthorizationListApi.as_view(), "api-authorizations"),
    *api_path("authorizations/<int:pk>", autopay.AuthorizationApi.as_view(), "api-authorization"),
    *api_path("authorizations/<int:pk>/sign", autopay.AuthorizationSignApi.as_view(), "api-authorization-sign"),
    *api_path("authorizations/<int:pk>/submit", autopay.AuthorizationSubmitApi.as_view(), "api-authorization-submit"),
    *api_path("authorizations/<int:pk>/confirm", autopay.AuthorizationConfirmApi.as_view(),
              "api-authorization-confirm"),
    *api_path("authorizations/<int:pk>/reject", autopay.AuthorizationRejectApi.as_view(), "api-authorization-reject"),
    *api_path("authorizations/<int:pk>/revoke", autopay.AuthorizationRevokeApi.as_view(), "api-authorization-revoke"),
    *api_path("authorizations/<int:pk>/events", autopay.AuthorizationEventsApi.as_view(), "api-authorization-events"),
    *api_path("authorizations/<int:pk>/roll-over", autopay.AuthorizationRollOverApi.as_view(),
              "api-authorization-roll-over"),
    *api_path("supplier/invoices", autopay.SupplierInvoiceListApi.as_view(), "api-supplier-invoices"),
    *api_path("supplier/invoices/<int:pk>", autopay.SupplierInvoiceApi.as_view(), "api-supplier-invoice"),
    *api_path("autopay/invoices", autopay.AutopayInvoiceListApi.as_view(), "api-autopay-invoices"),
    *api_path("autopay/exceptions", autopay.AutopayExceptionListApi.as_view(), "api-autopay-exceptions"),
    *api_path("autopay/invoices/<int:pk>/retry", autopay.AutopayInvoiceRetryApi.as_view(), "api-autopay-invoice-retry"),
    *api_path(
        "autopay/invoices/<int:pk>/confirm-amount",
        autopay.AutopayInvoiceConfirmAmountApi.as_view(),
        "api-autopay-invoice-confirm-amount",
    ),
    *api_path("autopay/invoices/<int:pk>/close", autopay.AutopayInvoiceCloseApi.as_view(), "api-autopay-invoice-close"),
    *api_path("autopay/runs", autopay.AutopayRunListApi.as_view(), "api-autopay-runs"),
]
