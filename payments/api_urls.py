from payments import apis
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
    # year end (payments/yearend_apis.py)
    *api_path("fiscal-year-closes", yearend.FiscalYearCloseListApi.as_view(), "api-fiscal-year-closes"),
    *api_path("fiscal-year-closes/<int:pk>", yearend.FiscalYearCloseApi.as_view(), "api-fiscal-year-close"),
    *api_path("fiscal-year-closes/<int:pk>/open-vouchers", yearend.FiscalYearOpenVouchersApi.as_view(),
              "api-fiscal-year-close-open-vouchers"),
    *api_path("fiscal-year-closes/<int:pk>/close", yearend.FiscalYearCloseStartApi.as_view(),
              "api-fiscal-year-close-close"),
    *api_path("fiscal-year-closes/<int:pk>/copy-budget-lines", yearend.FiscalYearCopyBudgetLinesApi.as_view(),
              "api-fiscal-year-close-copy-budget-lines"),
]
