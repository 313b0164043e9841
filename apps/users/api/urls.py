from django.urls import path

from apps.core.api.routers import Router

from . import views

router = Router()
router.register("users", views.UserViewSet, basename="user")

urlpatterns = [
    path("auth/token", views.TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh", views.TokenRefreshRotateView.as_view(), name="token-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="logout-api"),
    path("auth/me", views.MeView.as_view(), name="me"),
    *router.urls,
]
