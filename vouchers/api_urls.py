from treasury_portal.api import api_path
from vouchers import apis
from vouchers.payment import apis as payment_apis

V = "vouchers/<int:pk>"

urlpatterns = [
    *api_path("procedures", apis.ProcedureListApi.as_view(), "api-procedures"),
    *api_path("banks", apis.BankListApi.as_view(), "api-banks"),
    *api_path("reason-codes", apis.ReasonCodeListApi.as_view(), "api-reason-codes"),
    *api_path("budget-lines", apis.BudgetLineListApi.as_view(), "api-budget-lines"),
    *api_path("vouchers", apis.VoucherListApi.as_view(), "api-vouchers"),
    *api_path(V, apis.VoucherDetailApi.as_view(), "api-voucher"),
    *api_path(f"{V}/attachments", apis.VoucherAttachmentListApi.as_view(), "api-voucher-attachments"),
    *api_path(f"{V}/attachments/<int:att_id>", apis.VoucherAttachmentApi.as_view(), "api-voucher-attachment"),
    *api_path(f"{V}/sign", apis.VoucherSignApi.as_view(), "api-voucher-sign"),
    *api_path(f"{V}/submit", apis.VoucherSubmitApi.as_view(), "api-voucher-submit"),
    *api_path(f"{V}/withdraw", apis.VoucherWithdrawApi.as_view(), "api-voucher-withdraw"),
    *api_path(f"{V}/claim", apis.VoucherClaimApi.as_view(), "api-voucher-claim"),
    *api_path(f"{V}/return", apis.VoucherReturnApi.as_view(), "api-voucher-return"),
    *api_path(f"{V}/pass", apis.VoucherPassApi.as_view(), "api-voucher-pass"),
    *api_path(f"{V}/refuse", apis.VoucherRefuseApi.as_view(), "api-voucher-refuse"),
    *api_path(f"{V}/approve", apis.VoucherApproveApi.as_view(), "api-voucher-approve"),
    *api_path(f"{V}/send-back", apis.VoucherSendBackApi.as_view(), "api-voucher-send-back"),
    *api_path(f"{V}/release", apis.VoucherReleaseApi.as_view(), "api-voucher-release"),
    *api_path(f"{V}/reassign", apis.VoucherReassignApi.as_view(), "api-voucher-reassign"),
    *api_path(f"{V}/return-exception", apis.VoucherReturnExceptionApi.as_view(), "api-voucher-return-exception"),
    *api_path(f"{V}/rating", apis.VoucherRatingApi.as_view(), "api-voucher-rating"),
    *api_path(f"{V}/events", apis.VoucherEventListApi.as_view(), "api-voucher-events"),
    *api_path(f"{V}/changes", apis.VoucherChangesApi.as_view(), "api-voucher-changes"),
    *api_path(f"{V}/preflight", apis.VoucherPreflightApi.as_view(), "api-voucher-preflight"),
    *api_path(f"{V}/signatures", apis.VoucherSignatureChecksApi.as_view(), "api-voucher-signatures"),
    *api_path(f"{V}/retry-payment", payment_apis.VoucherRetryPaymentApi.as_view(), "api-voucher-retry-payment"),
    *api_path(f"{V}/result.pdf", payment_apis.VoucherResultPdfApi.as_view(), "api-voucher-result-pdf"),
    *api_path("review-queue", apis.ReviewQueueApi.as_view(), "api-review-queue"),
]
