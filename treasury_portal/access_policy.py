"""The declared access policy of every URL (pages and API), by URL name.

tests/test_access_policy.py walks every URL pattern and fails for a named or
unnamed route missing here, then checks each policy for every role and for a
user of another organisation. A feature that adds a route declares it here.

- login: False means anyone may call it (public catalogue, verification, health).
- roles: who may use it (None: any signed-in user, data scoped to them).
- obj: for routes with an object id, the kind of object (see
  tests/access_objects.py, which builds one per kind for another unit); a user
  outside that object's organisation must get 404.
"""

from dataclasses import dataclass

UNIT = frozenset({"preparer", "chief_accountant", "account_holder"})
SIGNERS = frozenset({"chief_accountant", "account_holder"})
TREASURY = frozenset({"control_officer", "approver", "administrator"})
REVIEWERS = frozenset({"control_officer", "approver"})
ADMIN = frozenset({"administrator"})
SUPPLIER = frozenset({"supplier_clerk"})
# Who retries or closes an autopay exception: the unit's signers, the treasury's
# administrators and control officers (autopay.selectors.EXCEPTION_ROLES).
EXCEPTION_HANDLERS = SIGNERS | frozenset({"administrator", "control_officer"})
# Who confirms an amount autopay held as unusual (autopay.selectors.can_confirm_amount).
HOLDER = frozenset({"account_holder"})
# Who registers and runs an organisation's webhook endpoints (integrations.services.can_manage).
WEBHOOK_MANAGERS = SIGNERS | SUPPLIER
# An office's leaders: its approvers and administrators (monitoring.dashboard.LEADER_ROLES).
LEADERS = frozenset({"approver", "administrator"})


@dataclass(frozen=True)
class Policy:
    login: bool = True
    roles: frozenset[str] | None = None
    obj: str | None = None


PUBLIC = Policy(login=False)
SIGNED_IN = Policy()

POLICY: dict[str, Policy] = {
    # accounts
    "home": SIGNED_IN,
    "profile": SIGNED_IN,
    "signing-keys": SIGNED_IN,
    "signing-key-revoke": Policy(obj="signing_key"),
    "api-tokens": SIGNED_IN,
    "api-token-revoke": Policy(obj="api_token"),
    "signing-key-approvals": Policy(roles=ADMIN),
    "memberships": Policy(roles=ADMIN),
    "membership-grant": Policy(roles=ADMIN),
    "membership-revoke": Policy(roles=ADMIN, obj="membership"),
    "healthz": PUBLIC,
    "api-me": SIGNED_IN,
    "api-my-signing-keys": SIGNED_IN,
    "api-signing-keys": SIGNED_IN,
    "api-signing-key-approve": Policy(roles=ADMIN, obj="signing_key"),
    "api-signing-key-reject": Policy(roles=ADMIN, obj="signing_key"),
    "api-signing-key-revoke": Policy(obj="signing_key"),
    "api-memberships": Policy(roles=ADMIN),
    "api-membership-revoke": Policy(roles=ADMIN, obj="membership"),
    # out-of-office with a delegate (accounts/views.py, accounts/apis.py): scoped by
    # accounts.selectors.absences_visible, the rules in accounts.services.absence_*
    "absences": Policy(roles=REVIEWERS),
    "absence-cancel": Policy(roles=REVIEWERS, obj="absence"),
    "api-absences": Policy(roles=REVIEWERS),
    "api-absence-cancel": Policy(roles=REVIEWERS, obj="absence"),
    # voucher pages (vouchers/urls.py)
    "procedure-catalogue": PUBLIC,
    "budget": Policy(roles=UNIT | TREASURY),
    "budget-allocations": Policy(roles=ADMIN),
    "voucher-list": Policy(roles=UNIT | TREASURY),
    "voucher-create": Policy(roles=UNIT),
    "voucher-create-preflight": Policy(roles=UNIT),
    "voucher-detail": Policy(roles=UNIT | TREASURY, obj="voucher"),
    "voucher-edit": Policy(roles=UNIT, obj="voucher"),
    "voucher-preflight": Policy(roles=UNIT, obj="voucher"),
    "voucher-sign": Policy(roles=SIGNERS, obj="voucher"),
    "voucher-signatures": Policy(roles=UNIT | TREASURY, obj="voucher"),
    "voucher-attachment": Policy(roles=UNIT | TREASURY, obj="attachment"),
    "voucher-submit": Policy(roles=frozenset({"account_holder"}), obj="voucher"),
    "voucher-withdraw": Policy(roles=UNIT, obj="voucher"),
    "voucher-claim": Policy(roles=frozenset({"control_officer"}), obj="voucher"),
    "voucher-return": Policy(roles=frozenset({"control_officer"}), obj="voucher"),
    "voucher-pass": Policy(roles=frozenset({"control_officer"}), obj="voucher"),
    "voucher-refuse": Policy(roles=frozenset({"control_officer"}), obj="voucher"),
    "voucher-approve": Policy(roles=frozenset({"approver"}), obj="voucher"),
    "voucher-send-back": Policy(roles=frozenset({"approver"}), obj="voucher"),
    "voucher-release": Policy(roles=frozenset({"control_officer"}), obj="voucher"),
    "voucher-reassign": Policy(roles=frozenset({"approver"}), obj="voucher"),
    "voucher-return-exception": Policy(roles=frozenset({"approver"}), obj="voucher"),
    "voucher-rate": Policy(roles=UNIT, obj="voucher"),
    "review-queue": Policy(roles=REVIEWERS),
    # vouchers API (vouchers/api_urls.py)
    "api-procedures": PUBLIC,
    "api-banks": PUBLIC,
    "api-reason-codes": SIGNED_IN,
    "api-budget-lines": Policy(roles=UNIT | TREASURY),
    "api-vouchers": Policy(roles=UNIT | TREASURY),
    "api-voucher": Policy(roles=UNIT | TREASURY, obj="voucher"),
    "api-voucher-attachments": Policy(roles=UNIT | TREASURY, obj="voucher"),
    "api-voucher-attachment": Policy(roles=UNIT | TREASURY, obj="attachment"),
    "api-voucher-sign": Policy(roles=SIGNERS, obj="voucher"),
    "api-voucher-submit": Policy(roles=frozenset({"account_holder"}), obj="voucher"),
    "api-voucher-withdraw": Policy(roles=UNIT, obj="voucher"),
    "api-voucher-claim": Policy(roles=frozenset({"control_officer"}), obj="voucher"),
    "api-voucher-return": Policy(roles=frozenset({"control_officer"}), obj="voucher"),
    "api-voucher-pass": Policy(roles=frozenset({"control_officer"}), obj="voucher"),
    "api-voucher-refuse": Policy(roles=frozenset({"control_officer"}), obj="voucher"),
    "api-voucher-approve": Policy(roles=frozenset({"approver"}), obj="voucher"),
    "api-voucher-send-back": Policy(roles=frozenset({"approver"}), obj="voucher"),
    "api-voucher-release": Policy(roles=frozenset({"control_officer"}), obj="voucher"),
    "api-voucher-reassign": Policy(roles=frozenset({"approver"}), obj="voucher"),
    "api-voucher-return-exception": Policy(roles=frozenset({"approver"}), obj="voucher"),
    "api-voucher-rating": Policy(roles=UNIT, obj="voucher"),
    "api-voucher-events": Policy(roles=UNIT | TREASURY, obj="voucher"),
    "api-voucher-changes": Policy(roles=UNIT | TREASURY, obj="voucher"),
    "api-voucher-preflight": Policy(roles=UNIT | TREASURY, obj="voucher"),
    "api-voucher-signatures": Policy(roles=UNIT | TREASURY, obj="voucher"),
    "api-review-queue": Policy(roles=REVIEWERS),
    # payments pages (payments/urls.py)
    "accounts-list": SIGNED_IN,
    "account-detail": Policy(obj="account"),
    "account-statement-pdf": Policy(obj="account"),
    "account-statement-csv": Policy(obj="account"),
    "debit-advice-pdf": Policy(obj="debit_transfer"),
    "voucher-result-pdf": Policy(roles=UNIT | TREASURY, obj="paid_voucher"),
    "payment-retry": Policy(roles=frozenset({"approver", "administrator"}), obj="paid_voucher"),
    "payments-overview": Policy(roles=TREASURY),
    "bank-files-generate": Policy(roles=ADMIN),
    "bank-file-download": Policy(roles=TREASURY, obj="bank_file"),
    "deposits": Policy(roles=ADMIN),
    "notifications": SIGNED_IN,
    "notifications-badge": SIGNED_IN,
    "notifications-read-all": SIGNED_IN,
    "notification-preferences": SIGNED_IN,
    "notification-open": Policy(obj="notification"),
    "verify": PUBLIC,  # the QR code of a result PDF: genuine or not and its status, nothing confidential
    "treasury-root-ca": PUBLIC,  # the root CA certificate readers trust to check the PDFs' signatures
    # autopay pages (autopay/urls.py, autopay/views.py)
    "autopay-authorizations": Policy(roles=UNIT | TREASURY),
    "autopay-authorization-create": Policy(roles=UNIT),
    "autopay-authorization": Policy(roles=UNIT | TREASURY, obj="autopay_authorization"),
    "autopay-authorization-edit": Policy(roles=UNIT, obj="autopay_authorization"),
    "autopay-authorization-sign": Policy(roles=SIGNERS, obj="autopay_authorization"),
    "autopay-authorization-submit": Policy(roles=frozenset({"account_holder"}), obj="autopay_authorization"),
    "autopay-authorization-revoke": Policy(roles=SIGNERS, obj="autopay_authorization"),
    "autopay-authorization-confirm": Policy(roles=ADMIN, obj="autopay_authorization"),
    "autopay-authorization-reject": Policy(roles=ADMIN, obj="autopay_authorization"),
    "autopay-unit-invoices": Policy(roles=UNIT),
    "autopay-confirmations": Policy(roles=ADMIN),
    "autopay-exceptions": Policy(roles=TREASURY),
    "autopay-runs": Policy(roles=TREASURY),
    "autopay-runs-progress": Policy(roles=TREASURY),
    "autopay-supplier-invoices": Policy(roles=SUPPLIER),
    "autopay-supplier-upload": Policy(roles=SUPPLIER),
    "autopay-supplier-template": Policy(roles=SUPPLIER),
    "autopay-invoice-retry": Policy(roles=EXCEPTION_HANDLERS, obj="autopay_exception"),
    "autopay-invoice-confirm": Policy(roles=HOLDER, obj="autopay_exception"),
    "autopay-invoice-close": Policy(roles=EXCEPTION_HANDLERS, obj="autopay_exception"),
    # payments API (payments/api_urls.py)
    "api-accounts": SIGNED_IN,
    "api-account-transactions": Policy(obj="account"),
    "api-account-statement-csv": Policy(obj="account"),
    "api-account-statement-pdf": Policy(obj="account"),
    "api-account-deposits": Policy(roles=ADMIN, obj="account"),
    "api-voucher-result-pdf": Policy(roles=UNIT | TREASURY, obj="paid_voucher"),
    "api-voucher-retry-payment": Policy(roles=frozenset({"approver", "administrator"}), obj="paid_voucher"),
    "api-transfer-debit-advice": Policy(obj="debit_transfer"),
    "api-notifications": SIGNED_IN,
    "api-notifications-read-all": SIGNED_IN,
    "api-notification-read": Policy(obj="notification"),
    "api-payment-intents": Policy(roles=TREASURY),
    "api-bank-files": Policy(roles=TREASURY),
    "api-bank-file-download": Policy(roles=TREASURY, obj="bank_file"),
    # GET: treasury staff of the file's office; POST (import a pain.002): its administrators (the service checks).
    "api-bank-status-reports": Policy(roles=TREASURY),
    # autopay API (autopay/api_urls.py)
    "api-authorizations": Policy(roles=UNIT | TREASURY),
    "api-authorization": Policy(roles=UNIT | TREASURY, obj="autopay_authorization"),
    "api-authorization-sign": Policy(roles=SIGNERS, obj="autopay_authorization"),
    "api-authorization-submit": Policy(roles=frozenset({"account_holder"}), obj="autopay_authorization"),
    "api-authorization-confirm": Policy(roles=ADMIN, obj="autopay_authorization"),
    "api-authorization-reject": Policy(roles=ADMIN, obj="autopay_authorization"),
    "api-authorization-revoke": Policy(roles=SIGNERS, obj="autopay_authorization"),
    "api-authorization-events": Policy(roles=UNIT | TREASURY, obj="autopay_authorization"),
    "api-authorization-roll-over": Policy(roles=SIGNERS, obj="autopay_authorization"),
    # year end (payments/yearend_apis.py, payments/yearend_views.py): treasury staff see their
    # offices' year ends; administrators over the office act; unit signers roll authorizations over
    "api-fiscal-year-closes": Policy(roles=TREASURY),
    "api-fiscal-year-close": Policy(roles=TREASURY, obj="fiscal_year_close"),
    "api-fiscal-year-close-open-vouchers": Policy(roles=TREASURY, obj="fiscal_year_close"),
    "api-fiscal-year-close-close": Policy(roles=ADMIN, obj="fiscal_year_close"),
    "api-fiscal-year-close-copy-budget-lines": Policy(roles=ADMIN, obj="fiscal_year_close"),
    "yearend-closes": Policy(roles=TREASURY),
    "yearend-close": Policy(roles=TREASURY, obj="fiscal_year_close"),
    "yearend-close-progress": Policy(roles=TREASURY, obj="fiscal_year_close"),
    "yearend-close-confirm": Policy(roles=ADMIN, obj="fiscal_year_close"),
    "yearend-close-copy-budget-lines": Policy(roles=ADMIN, obj="fiscal_year_close"),
    "yearend-rollovers": Policy(roles=UNIT),
    "yearend-rollover": Policy(roles=SIGNERS, obj="autopay_authorization"),
    "api-supplier-invoices": Policy(roles=SUPPLIER),
    "api-supplier-invoice": Policy(roles=SUPPLIER, obj="supplier_invoice"),
    "api-autopay-invoices": Policy(roles=UNIT | TREASURY),
    "api-autopay-exceptions": Policy(roles=UNIT | TREASURY),
    "api-autopay-runs": Policy(roles=TREASURY),
    "api-autopay-invoice-retry": Policy(roles=EXCEPTION_HANDLERS, obj="autopay_exception"),
    "api-autopay-invoice-confirm-amount": Policy(roles=HOLDER, obj="autopay_exception"),
    "api-autopay-invoice-close": Policy(roles=EXCEPTION_HANDLERS, obj="autopay_exception"),
    # risk monitoring (monitoring/urls.py, monitoring/api_urls.py): scoped by the selectors,
    # the actions' roles checked by monitoring.services.can_*
    "monitoring-alerts": Policy(roles=UNIT | TREASURY),
    "monitoring-alert": Policy(roles=UNIT | TREASURY, obj="alert"),
    "monitoring-alert-acknowledge": Policy(roles=UNIT | TREASURY, obj="alert"),
    "monitoring-alert-explain": Policy(roles=UNIT | TREASURY, obj="alert"),
    "monitoring-alert-resolve": Policy(roles=UNIT | TREASURY, obj="alert"),
    "monitoring-alert-dismiss": Policy(roles=UNIT | TREASURY, obj="alert"),
    "api-alerts": Policy(roles=UNIT | TREASURY),
    "api-alert": Policy(roles=UNIT | TREASURY, obj="alert"),
    "api-alert-acknowledge": Policy(roles=UNIT | TREASURY, obj="alert"),
    "api-alert-explain": Policy(roles=UNIT | TREASURY, obj="alert"),
    "api-alert-resolve": Policy(roles=UNIT | TREASURY, obj="alert"),
    "api-alert-dismiss": Policy(roles=UNIT | TREASURY, obj="alert"),
    # reports (monitoring/reports/): the figures scoped by the selectors; an export is its requester's
    "monitoring-reports": Policy(roles=UNIT | TREASURY),
    "monitoring-report-create": Policy(roles=UNIT | TREASURY),
    "monitoring-report": Policy(roles=UNIT | TREASURY, obj="report_export"),
    "monitoring-report-status": Policy(roles=UNIT | TREASURY, obj="report_export"),
    "monitoring-report-file": Policy(roles=UNIT | TREASURY, obj="report_export"),
    "api-reports": Policy(roles=UNIT | TREASURY),
    # state budget revenue (payments/revenue_*.py): read by an office's treasury staff (their offices and
    # below); recorded by control officers and administrators (payments.services.revenue.IMPORT_ROLES)
    "revenue-collections": Policy(roles=TREASURY),
    "revenue-template": Policy(roles=TREASURY),
    "api-revenue-collections": Policy(roles=TREASURY),
    "api-report": Policy(roles=UNIT | TREASURY, obj="report_export"),
    "api-report-file": Policy(roles=UNIT | TREASURY, obj="report_export"),
    # integrator webhooks (integrations/urls.py, integrations/api_urls.py): a unit's people see its
    # endpoints, its signers manage them; a supplier's clerks theirs (integrations.services.can_*).
    # Treasury staff have no access: an integrator's set-up is its own.
    "webhook-endpoints": Policy(roles=UNIT | SUPPLIER),
    "webhook-endpoint-create": Policy(roles=WEBHOOK_MANAGERS),
    "webhook-endpoint": Policy(roles=UNIT | SUPPLIER, obj="webhook_endpoint"),
    "webhook-endpoint-disable": Policy(roles=WEBHOOK_MANAGERS, obj="webhook_endpoint"),
    "webhook-endpoint-enable": Policy(roles=WEBHOOK_MANAGERS, obj="webhook_endpoint"),
    "webhook-endpoint-rotate-secret": Policy(roles=WEBHOOK_MANAGERS, obj="webhook_endpoint"),
    "webhook-delivery-replay": Policy(roles=WEBHOOK_MANAGERS, obj="webhook_delivery"),
    "api-webhook-endpoints": Policy(roles=UNIT | SUPPLIER),
    "api-webhook-endpoint": Policy(roles=UNIT | SUPPLIER, obj="webhook_endpoint"),
    "api-webhook-endpoint-disable": Policy(roles=WEBHOOK_MANAGERS, obj="webhook_endpoint"),
    "api-webhook-endpoint-enable": Policy(roles=WEBHOOK_MANAGERS, obj="webhook_endpoint"),
    "api-webhook-endpoint-rotate-secret": Policy(roles=WEBHOOK_MANAGERS, obj="webhook_endpoint"),
    "api-webhook-deliveries": Policy(roles=UNIT | SUPPLIER, obj="webhook_endpoint"),
    "api-webhook-delivery-replay": Policy(roles=WEBHOOK_MANAGERS, obj="webhook_delivery"),
    # leader dashboard, satisfaction follow-ups, public satisfaction (monitoring/dashboard_urls.py,
    # monitoring/dashboard_api_urls.py): the dashboard for the offices' leaders (monitoring.dashboard),
    # the follow-ups for the treasury staff over the unit (the actions' roles: monitoring.satisfaction.services)
    "monitoring-dashboard": Policy(roles=LEADERS),
    "monitoring-followups": Policy(roles=TREASURY),
    "monitoring-followup": Policy(roles=TREASURY, obj="followup"),
    "monitoring-followup-assign": Policy(roles=TREASURY, obj="followup"),
    "monitoring-followup-note": Policy(roles=TREASURY, obj="followup"),
    "monitoring-followup-close": Policy(roles=TREASURY, obj="followup"),
    "public-satisfaction": PUBLIC,  # each office's satisfaction and on-time rates: no unit, no person
    "api-dashboard": Policy(roles=LEADERS),
    "api-satisfaction": PUBLIC,
    "api-followups": Policy(roles=TREASURY),
    "api-followup": Policy(roles=TREASURY, obj="followup"),
    "api-followup-assign": Policy(roles=TREASURY, obj="followup"),
    "api-followup-note": Policy(roles=TREASURY, obj="followup"),
    "api-followup-close": Policy(roles=TREASURY, obj="followup"),
    # framework
    "api-schema": PUBLIC,
    "api-docs": PUBLIC,
    "set_language": PUBLIC,
}

# Routes of django-allauth and the Django admin are governed by those packages
# (allauth: public sign-in pages; admin: PortalAdminSite.has_permission).
DELEGATED_PREFIXES = ("account_", "mfa_", "admin:", "socialaccount_", "headless")
