"""Analyst pages of the model registry (names kept apart from the API router's)."""

from django.urls import path

from apps.core.views import placeholder

from . import views

urlpatterns = [
    path("models/", views.model_list, name="models"),
    path("models/<int:pk>/", views.model_detail, name="model-page"),
    path("traceability/", placeholder, {"section": "Traceability"}, name="traceability"),
]
