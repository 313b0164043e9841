"""Analyst pages of the model registry (names kept apart from the API router's)."""

from django.urls import path

from . import views, views_actions, views_scorecard

urlpatterns = [
    path("models/", views.model_list, name="models"),
    path("models/<int:pk>/", views.model_detail, name="model-page"),
    path("models/<int:pk>/versions/", views.model_versions, name="model-versions-page"),
    path("models/<int:pk>/upload/", views_actions.version_upload, name="model-upload-page"),
    path("models/<int:pk>/try/", views_actions.version_try, name="model-try-page"),
    path("models/<int:pk>/ab/", views_actions.ab_set, name="model-ab-page"),
    path("models/<int:pk>/batch/", views_actions.batch_start, name="model-batch-page"),
    path(
        "models/batch-predictions/<int:pk>/download/",
        views_actions.batch_download,
        name="batch-download-page",
    ),
    path(
        "models/versions/<int:version_id>/scorecard/", views_scorecard.scorecard_page, name="scorecard-page"
    ),
    path("tasks/create/", views.task_create, name="task-create"),
    path("traceability/", views.traceability, name="traceability"),
    path("traceability/<int:version_id>/", views.trace_detail, name="trace-page"),
    path("traceability/<int:version_id>/reproduce/", views.trace_reproduce, name="trace-reproduce"),
]
