"""Analyst pages of the feature center."""

from django.urls import path

from . import views, views_sets

urlpatterns = [
    path("features/", views.feature_list, name="features"),
    path("features/register/", views.feature_register, name="feature-register"),
    path("features/<int:pk>/", views.feature_detail, name="feature-detail"),
    path("features/sets/", views_sets.feature_set_list, name="feature-sets-page"),
    path("features/sets/<int:pk>/", views_sets.feature_set_detail, name="feature-set-page"),
]
