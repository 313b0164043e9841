"""Analyst pages of alerts."""

from django.urls import path

from . import views

urlpatterns = [
    path("alerts/", views.alert_list, name="alerts-page"),
    path("alerts/<int:pk>/<slug:action>/", views.alert_act, name="alert-act"),
]
