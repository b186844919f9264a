from django.urls import path

from payments import autopay_views, views

urlpatterns = [
    path("payments/accounts/", views.accounts_list, name="accounts-list"),
    path("payments/accounts/<int:pk>/", views.account_detail, name="account-detail"),
    path("payments/accounts/<int:pk>/statement.pdf", views.account_statement_pdf, name="account-statement-pdf"),
    path("payments/accounts/<int:pk>/statement.csv", views.account_statement_csv, name="account-statement-csv"),
    path("payments/transfers/<int:pk>/debit-advice.pdf", views.debit_advice_pdf, name="debit-advice-pdf"),
    path("payments/vouchers/<int:pk>/result.pdf", views.voucher_result_pdf, name="voucher-result-pdf"),
    path("payments/vouchers/<int:pk>/retry/", views.payment_retry, name="payment-retry"),
    path("payments/treasury/", views.payments_overview, name="payments-overview"),
    path("payments/treasury/bank-files/generate/", views.bank_files_generate, name="bank-files-generate"),
    path("payments/treasury/bank-files/<int:pk>/download/", views.bank_file_download, name="bank-file-download"),
    path("payments/treasury/deposits/", views.deposits, name="deposits"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/badge/", views.notifications_badge, name="notifications-badge"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications-read-all"),
    path("notifications/preferences/", views.notification_preferences, name="notification-preferences"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification-open"),
    path("verify/<str:content_hash>", views.verify, name="verify"),
    # automatic utility payments (payments/autopay_views.py)
    path("autopay/", autopay_views.authorization_list, name="autopay-authorizations"),
    path("autopay/new/", autopay_views.authorization_create, name="autopay-authorization-create"),
    path("autopay/invoices/", autopay_views.unit_invoices, name="autopay-unit-invoices"),
    path("autopay/<int:pk>/", autopay_views.authorization_detail, name="autopay-authorization"),
    path("autopay/<int:pk>/edit/", autopay_views.authorization_edit, name="autopay-authorization-edit"),
    path("autopay/<int:pk>/sign/", autopay_views.authorization_sign, name="autopay-authorization-sign"),
    path(
        "autopay/<int:pk>/submit/",
        autopay_views.authorization_action,
        {"action": "submit"},
        name="autopay-authorization-submit",
    ),
    path(
        "autopay/<int:pk>/revoke/",
        autopay_views.authorization_action,
        {"action": "revoke"},
        name="autopay-authorization-revoke",
    ),
    path(
        "autopay/<int:pk>/confirm/",
        autopay_views.authorization_action,
        {"action": "confirm"},
        name="autopay-authorization-confirm",
    ),
    path(
        "autopay/<int:pk>/reject/",
        autopay_views.authorization_action,
        {"action": "reject"},
        name="autopay-authorization-reject",
    ),
    path("treasury/autopay/confirmations/", autopay_views.confirmations, name="autopay-confirmations"),
    path("treasury/autopay/exceptions/", autopay_views.treasury_exceptions, name="autopay-exceptions"),
    path("treasury/autopay/runs/", autopay_views.runs, name="autopay-runs"),
    path("treasury/autopay/runs/progress/", autopay_views.runs_progress, name="autopay-runs-progress"),
    path("supplier/invoices/", autopay_views.supplier_invoices, name="autopay-supplier-invoices"),
]
