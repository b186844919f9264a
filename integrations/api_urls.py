from integrations import apis
from treasury_portal.api import api_path

E = "webhook-endpoints/<int:pk>"

urlpatterns = [
    *api_path("webhook-endpoints", apis.WebhookEndpointListApi.as_view(), "api-webhook-endpoints"),
    *api_path(E, apis.WebhookEndpointApi.as_view(), "api-webhook-endpoint"),
    *api_path(f"{E}/disable", apis.WebhookEndpointDisableApi.as_view(), "api-webhook-endpoint-disable"),
    *api_path(f"{E}/enable", apis.WebhookEndpointEnableApi.as_view(), "api-webhook-endpoint-enable"),
    *api_path(f"{E}/rotate-secret", apis.WebhookEndpointRotateSecretApi.as_view(),
              "api-webhook-endpoint-rotate-secret"),
    *api_path(f"{E}/deliveries", apis.WebhookDeliveryListApi.as_view(), "api-webhook-deliveries"),
    *api_path(f"{E}/deliveries/<int:delivery_id>/replay", apis.WebhookDeliveryReplayApi.as_view(),
              "api-webhook-delivery-replay"),
]
