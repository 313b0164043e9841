"""Analyst pages of QA (names kept apart from the API router's ``qa-*``)."""

from django.urls import path

from . import views, views_history

urlpatterns = [
    path("qa/", views.console, name="qa"),
    path("qa/sessions/new/", views.session_new, name="qa-session-new"),
    path("qa/history/", views_history.history_search, name="qa-history-page"),
    path("qa/history/<int:pk>/feedback/", views.feedback, name="qa-feedback-page"),
    path("qa/train/", views.train, name="qa-train-page"),
    path("qa/evaluations/", views.evaluation_list, name="qa-evaluations"),
    path("qa/evaluations/<int:pk>/", views.evaluation_page, name="qa-evaluation-page"),
]
