"""Analyst pages of this domain (placeholder until the domain's pages are built)."""

from django.urls import path

from apps.core.views import placeholder

urlpatterns = [
    path("models/", placeholder, {"section": "Models"}, name="models"),
    path("traceability/", placeholder, {"section": "Traceability"}, name="traceability"),
]
