"""Analyst pages of monitoring."""

from django.urls import path

from . import views

urlpatterns = [
    path("monitoring/", views.monitoring_list, name="monitoring"),
    path("monitoring/versions/<int:pk>/", views.monitoring_version, name="monitoring-version"),
]
