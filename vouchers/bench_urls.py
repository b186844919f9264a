"""Included under /bench/ only when settings.BENCHMARK_ENDPOINTS (bench settings)."""

from django.urls import path

from vouchers import bench_views

urlpatterns = [
    path("insert", bench_views.CeilingInsertView.as_view(), name="bench-ceiling-insert"),
    path("list", bench_views.CeilingListView.as_view(), name="bench-ceiling-list"),
]
