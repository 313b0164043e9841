"""OMM URL map: analyst pages, the admin, the API and its docs, health and metrics."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

# The per-request hot paths (predict, ask) first: patterns are tried in order.
api_patterns = [
    path("", include("apps.models.api.urls")),
    path("", include("apps.qa.api.urls")),
    path("", include("apps.users.api.urls")),
    path("", include("apps.core.api.urls")),
    path("", include("apps.datasets.api.urls")),
    path("", include("apps.features.api.urls")),
    path("", include("apps.tasks.api.urls")),
    path("", include("apps.evaluations.api.urls")),
    path("", include("apps.monitoring.api.urls")),
    path("", include("apps.alerts.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    # The translations the analyst pages' scripts use (gettext in static/omm/*.js).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/", include(api_patterns)),
    path("", include("apps.users.urls")),
    path("", include("apps.overview.urls")),
    path("", include("apps.core.urls")),
    path("", include("apps.datasets.urls")),
    path("", include("apps.features.urls")),
    path("", include("apps.models.urls")),
    path("", include("apps.tasks.urls")),
    path("", include("apps.evaluations.urls")),
    path("", include("apps.monitoring.urls")),
    path("", include("apps.alerts.urls")),
    path("", include("apps.qa.urls")),
]

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"
