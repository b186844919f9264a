from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from treasury_portal.admin_site import portal_admin_site

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("vouchers.api_urls")),
    path("", include("payments.api_urls")),
    path("", include("payments.revenue_api_urls")),
    path("", include("autopay.api_urls")),
    path("", include("monitoring.api_urls")),
    path("", include("integrations.api_urls")),
    path("", include("monitoring.dashboard_api_urls")),
]

urlpatterns = [
    # The API first: Django tries the patterns in order, and the pages' includes
    # ("" prefixes, hundreds of routes) would otherwise be tried and missed on
    # every API request (~100 µs of regex matching). No page route starts with api/.
    path("api/v1/", include(api_v1)),
    path("", include("accounts.urls")),
    path("", include("vouchers.urls")),
    path("", include("payments.urls")),
    path("", include("payments.revenue_urls")),
    path("", include("autopay.urls")),
    path("", include("monitoring.urls")),
    path("", include("integrations.urls")),
    path("", include("monitoring.dashboard_urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", portal_admin_site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.BENCHMARK_ENDPOINTS:
    urlpatterns.append(path("bench/", include("vouchers.bench_urls")))

admin.site = portal_admin_site

# The API answers with its JSON error body even when no API view runs.
handler400 = "treasury_portal.api.handler400"
handler403 = "treasury_portal.api.handler403"
handler404 = "treasury_portal.api.handler404"
handler500 = "treasury_portal.api.handler500"
