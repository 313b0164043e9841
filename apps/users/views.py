"""Users pages: login and logout (Django's views, throttled by axes)."""

from django.contrib.auth import views as auth_views

LoginView = auth_views.LoginView.as_view(redirect_authenticated_user=True)
LogoutView = auth_views.LogoutView.as_view()
