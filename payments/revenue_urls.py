from django.urls import path

from payments import revenue_views

urlpatterns = [
    path("treasury/revenue/", revenue_views.revenue_collections, name="revenue-collections"),
    path("treasury/revenue/template.csv", revenue_views.revenue_template, name="revenue-template"),
]
