from payments import apis
from payments import autopay_apis as autopay
from payments import yearend_apis as yearend
from treasury_portal.api import api_path

urlpatterns = [
    *api_path("accounts", apis.AccountListApi.as_view(), "api-accounts"),
    *api_path("accounts/<int:pk>/transactions", apis.AccountTransactionsApi.as_view(), "api-account-transactions"),
    *api_path("accounts/<int:pk>/statement.csv", apis.AccountStatementCsvApi.as_view(), "api-account-statement-csv"),
    *api_path("accounts/<int:pk>/statement.pdf", apis.AccountStatementPdfApi.as_view(), "api-account-statement-pdf"),
    *api_path("accounts/<int:pk>/deposits", apis.AccountDepositsApi.as_view(), "api-account-deposits"),
    *api_path("transfers/<int:pk>/debit-advice.pdf", apis.DebitAdvicePdfApi.as_view(), "api-transfer-debit-advice"),
    *api_path("notifications", apis.NotificationListApi.as_view(), "api-notifications"),
    *api_path("notifications/read-all", apis.NotificationsReadAllApi.as_view(), "api-notifications-read-all"),
    *api_path("notifications/<int:pk>/read", apis.NotificationReadApi.as_view(), "api-notification-read"),
    *api_path("payment-intents", apis.PaymentIntentListApi.as_view(), "api-payment-intents"),
    *api_path("bank-files", apis.BankFileListApi.as_view(), "api-bank-files"),
    *api_path("bank-status-reports", apis.BankStatusReportListApi.as_view(), "api-bank-status-reports"),
    *api_path("bank-files/<int:pk>/download", apis.BankFileDownloadApi.as_view(), "api-bank-file-download"),
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
    *api_path("authorizations/<int:pk>/roll-over", yearend.AuthorizationRollOverApi.as_view(),
              "api-authorization-roll-over"),
    # year end (payments/yearend_apis.py)
    *api_path("fiscal-year-closes", yearend.FiscalYearCloseListApi.as_view(), "api-fiscal-year-closes"),
    *api_path("fiscal-year-closes/<int:pk>", yearend.FiscalYearCloseApi.as_view(), "api-fiscal-year-close"),
    *api_path("fiscal-year-closes/<int:pk>/open-vouchers", yearend.FiscalYearOpenVouchersApi.as_view(),
              "api-fiscal-year-close-open-vouchers"),
    *api_path("fiscal-year-closes/<int:pk>/close", yearend.FiscalYearCloseStartApi.as_view(),
              "api-fiscal-year-close-close"),
    *api_path("fiscal-year-closes/<int:pk>/copy-budget-lines", yearend.FiscalYearCopyBudgetLinesApi.as_view(),
              "api-fiscal-year-close-copy-budget-lines"),
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
