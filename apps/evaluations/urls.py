"""Analyst pages of evaluations (names kept apart from the API router's ``evaluation-*``)."""

from django.urls import path

from . import views, views_document

urlpatterns = [
    path("evaluation/", views.evaluation_list, name="evaluation"),
    path("evaluation/report/<int:pk>/", views.evaluation_report, name="evaluation-report"),
    path("evaluation/compare/", views.evaluation_compare, name="evaluation-compare-page"),
    path(
        "models/versions/<int:version_id>/document/",
        views_document.version_document_page,
        name="version-document-page",
    ),
]
