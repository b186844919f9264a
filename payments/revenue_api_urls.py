from payments import revenue_apis
from treasury_portal.api import api_path

urlpatterns = [
    *api_path("revenue-collections", revenue_apis.RevenueCollectionListApi.as_view(), "api-revenue-collections"),
]
