from django.urls import path

from integrations import views

E = "integrations/webhooks/<int:pk>"

urlpatterns = [
    path("integrations/webhooks/", views.endpoint_list, name="webhook-endpoints"),
    path("integrations/webhooks/new/", views.endpoint_create, name="webhook-endpoint-create"),
    path(f"{E}/", views.endpoint_detail, name="webhook-endpoint"),
    path(f"{E}/disable/", views.endpoint_action, {"action": "disable"}, name="webhook-endpoint-disable"),
    path(f"{E}/enable/", views.endpoint_action, {"action": "enable"}, name="webhook-endpoint-enable"),
    path(f"{E}/rotate-secret/", views.endpoint_action, {"action": "rotate"}, name="webhook-endpoint-rotate-secret"),
    path(f"{E}/deliveries/<int:delivery_id>/replay/", views.delivery_replay, name="webhook-delivery-replay"),
]
