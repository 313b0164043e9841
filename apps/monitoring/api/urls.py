"""API routes of monitoring."""

from django.urls import path

from . import views

urlpatterns = [
    path("monitoring/versions/<int:pk>/periods", views.periods, name="monitoring-api-periods"),
    path("monitoring/versions/<int:pk>/vintages", views.vintages, name="monitoring-api-vintages"),
    path("monitoring/versions/<int:pk>/run", views.run, name="monitoring-api-run"),
    path("monitoring/outcomes", views.outcomes, name="monitoring-api-outcomes"),
]
