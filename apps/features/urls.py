"""Analyst pages of the feature center."""

from django.urls import path

from . import views

urlpatterns = [
    path("features/", views.feature_list, name="features"),
    path("features/register/", views.feature_register, name="feature-register"),
    path("features/<int:pk>/", views.feature_detail, name="feature-detail"),
]
