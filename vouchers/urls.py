from django.urls import path

from vouchers import views

urlpatterns = [
    path("budget/", views.budget, name="budget"),
    path("budget/allocations/", views.budget_allocations, name="budget-allocations"),
    path("procedures/", views.procedure_catalogue, name="procedure-catalogue"),
]
