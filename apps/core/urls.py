from django.urls import path

from . import views, views_settings

urlpatterns = [
    path("health", views.health, name="health"),
    path("metrics", views.metrics, name="metrics"),
    path("settings/", views_settings.settings_list, name="settings"),
    path("settings/<slug:key>/", views_settings.setting_edit, name="setting-edit"),
]
