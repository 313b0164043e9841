"""Analyst pages of the datasets domain."""

from django.urls import path

from . import views

urlpatterns = [
    path("datasets/", views.dataset_list, name="datasets"),
    path("datasets/<int:pk>/", views.dataset_detail, name="dataset-detail"),
    path("datasets/<int:pk>/quality/", views.dataset_quality, name="dataset-quality"),
]
