from django.urls import path

from payments import views as payments_views
from vouchers import views
from vouchers.payment import views as payment_views

urlpatterns = [
    path("procedures/", views.procedure_catalogue, name="procedure-catalogue"),
    path("budget/", views.budget, name="budget"),
    path("budget/allocations/", views.budget_allocations, name="budget-allocations"),
    path("vouchers/", views.voucher_list, name="voucher-list"),
    path("vouchers/new/", views.voucher_create, name="voucher-create"),
    path("vouchers/new/preflight/", views.voucher_create_preflight, name="voucher-create-preflight"),
    path("vouchers/<int:pk>/", views.voucher_detail, name="voucher-detail"),
    path("vouchers/<int:pk>/edit/", views.voucher_edit, name="voucher-edit"),
    path("vouchers/<int:pk>/preflight/", views.voucher_preflight, name="voucher-preflight"),
    path("vouchers/<int:pk>/sign/", views.voucher_sign, name="voucher-sign"),
    path("vouchers/<int:pk>/signatures/", views.voucher_signatures, name="voucher-signatures"),
    path("vouchers/<int:pk>/attachments/<int:att_id>/", views.voucher_attachment, name="voucher-attachment"),
    path("vouchers/<int:pk>/submit/", views.voucher_action, {"action": "submit"}, name="voucher-submit"),
    path("vouchers/<int:pk>/withdraw/", views.voucher_action, {"action": "withdraw"}, name="voucher-withdraw"),
    path("vouchers/<int:pk>/claim/", views.voucher_action, {"action": "claim"}, name="voucher-claim"),
    path("vouchers/<int:pk>/return/", views.voucher_action, {"action": "return"}, name="voucher-return"),
    path("vouchers/<int:pk>/pass/", views.voucher_action, {"action": "pass"}, name="voucher-pass"),
    path("vouchers/<int:pk>/refuse/", views.voucher_action, {"action": "refuse"}, name="voucher-refuse"),
    path("vouchers/<int:pk>/approve/", views.voucher_approve, name="voucher-approve"),
    path("vouchers/<int:pk>/send-back/", views.voucher_action, {"action": "send_back"}, name="voucher-send-back"),
    path("vouchers/<int:pk>/release/", views.voucher_action, {"action": "release"}, name="voucher-release"),
    path("vouchers/<int:pk>/reassign/", views.voucher_action, {"action": "reassign"}, name="voucher-reassign"),
    path(
        "vouchers/<int:pk>/return-exception/",
        views.voucher_action,
        {"action": "return_exception"},
        name="voucher-return-exception",
    ),
    path("vouchers/<int:pk>/rating/", views.voucher_action, {"action": "rate"}, name="voucher-rate"),
    path("treasury/queue/", views.review_queue, name="review-queue"),
    # the voucher's payment (vouchers/payment/), under the payments pages' path
    path("payments/vouchers/<int:pk>/retry/", payment_views.payment_retry, name="payment-retry"),
    path("payments/vouchers/<int:pk>/result.pdf", payment_views.voucher_result_pdf, name="voucher-result-pdf"),
    # Before verify/<hash>, which would take its name for a hash (the view is payments').
    path("verify/treasury-root-ca.crt", payments_views.treasury_root_certificate, name="treasury-root-ca"),
    path("verify/<str:content_hash>", payment_views.verify, name="verify"),
]
