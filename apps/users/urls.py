from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView, name="login"),
    path("logout/", views.LogoutView, name="logout"),
    path("language/", views.set_language, name="set_language"),
]
