from django.urls import path

from payments import views, yearend_views

urlpatterns = [
    path("payments/accounts/", views.accounts_list, name="accounts-list"),
    path("payments/accounts/<int:pk>/", views.account_detail, name="account-detail"),
    path("payments/accounts/<int:pk>/statement.pdf", views.account_statement_pdf, name="account-statement-pdf"),
    path("payments/accounts/<int:pk>/statement.csv", views.account_statement_csv, name="account-statement-csv"),
    path("payments/transfers/<int:pk>/debit-advice.pdf", views.debit_advice_pdf, name="debit-advice-pdf"),
    path("payments/treasury/", views.payments_overview, name="payments-overview"),
    path("payments/treasury/bank-files/generate/", views.bank_files_generate, name="bank-files-generate"),
    path("payments/treasury/bank-files/<int:pk>/download/", views.bank_file_download, name="bank-file-download"),
    path("payments/treasury/deposits/", views.deposits, name="deposits"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/badge/", views.notifications_badge, name="notifications-badge"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications-read-all"),
    path("notifications/preferences/", views.notification_preferences, name="notification-preferences"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification-open"),
    # year end (payments/yearend_views.py)
    path("treasury/year-end/", yearend_views.close_list, name="yearend-closes"),
    path("treasury/year-end/<int:pk>/", yearend_views.close_detail, name="yearend-close"),
    path("treasury/year-end/<int:pk>/progress/", yearend_views.close_progress, name="yearend-close-progress"),
    path("treasury/year-end/<int:pk>/close/", yearend_views.close_confirm, name="yearend-close-confirm"),
    path("treasury/year-end/<int:pk>/copy-budget-lines/", yearend_views.close_copy_budget_lines,
         name="yearend-close-copy-budget-lines"),
]
