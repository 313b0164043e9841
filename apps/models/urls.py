"""Analyst pages of the model registry (names kept apart from the API router's)."""

from django.urls import path

from . import views

urlpatterns = [
    path("models/", views.model_list, name="models"),
    path("models/<int:pk>/", views.model_detail, name="model-page"),
    path("models/<int:pk>/versions/", views.model_versions, name="model-versions-page"),
    path("tasks/create/", views.task_create, name="task-create"),
    path("traceability/", views.traceability, name="traceability"),
    path("traceability/<int:version_id>/", views.trace_detail, name="trace-page"),
    path("traceability/<int:version_id>/reproduce/", views.trace_reproduce, name="trace-reproduce"),
]
