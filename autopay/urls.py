from django.urls import path

from autopay import views

urlpatterns = [
    # automatic utility payments (payments/views.py)
    path("autopay/", views.authorization_list, name="autopay-authorizations"),
    path("autopay/new/", views.authorization_create, name="autopay-authorization-create"),
    path("autopay/invoices/", views.unit_invoices, name="autopay-unit-invoices"),
    path(
        "autopay/invoices/<int:pk>/retry/",
        views.invoice_action,
        {"action": "retry"},
        name="autopay-invoice-retry",
    ),
    path(
        "autopay/invoices/<int:pk>/confirm/",
        views.invoice_action,
        {"action": "confirm"},
        name="autopay-invoice-confirm",
    ),
    path(
        "autopay/invoices/<int:pk>/close/",
        views.invoice_action,
        {"action": "close"},
        name="autopay-invoice-close",
    ),
    path("autopay/<int:pk>/", views.authorization_detail, name="autopay-authorization"),
    path("autopay/<int:pk>/edit/", views.authorization_edit, name="autopay-authorization-edit"),
    path("autopay/<int:pk>/sign/", views.authorization_sign, name="autopay-authorization-sign"),
    path(
        "autopay/<int:pk>/submit/",
        views.authorization_action,
        {"action": "submit"},
        name="autopay-authorization-submit",
    ),
    path(
        "autopay/<int:pk>/revoke/",
        views.authorization_action,
        {"action": "revoke"},
        name="autopay-authorization-revoke",
    ),
    path(
        "autopay/<int:pk>/confirm/",
        views.authorization_action,
        {"action": "confirm"},
        name="autopay-authorization-confirm",
    ),
    path(
        "autopay/<int:pk>/reject/",
        views.authorization_action,
        {"action": "reject"},
        name="autopay-authorization-reject",
    ),
    path("treasury/autopay/confirmations/", views.confirmations, name="autopay-confirmations"),
    path("treasury/autopay/exceptions/", views.treasury_exceptions, name="autopay-exceptions"),
    path("treasury/autopay/runs/", views.runs, name="autopay-runs"),
    path("treasury/autopay/runs/progress/", views.runs_progress, name="autopay-runs-progress"),
    path("supplier/invoices/", views.supplier_invoices, name="autopay-supplier-invoices"),
    path("supplier/invoices/upload/", views.supplier_statement_upload, name="autopay-supplier-upload"),
    path("supplier/invoices/template.csv", views.supplier_statement_template,
         name="autopay-supplier-template"),
    # the roll-over of an authorization into the next fiscal year (autopay/views.py)
    path("autopay/roll-over/", views.rollovers, name="yearend-rollovers"),
    path("autopay/<int:pk>/roll-over/", views.rollover, name="yearend-rollover"),
]
