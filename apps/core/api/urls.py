from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=False)
router.register("system/config", views.SystemConfigViewSet, basename="system-config")
router.register("system/audit-logs", views.ApiAuditLogViewSet, basename="audit-log")
router.register("system/workers", views.WorkerViewSet, basename="worker")
router.register("system/worker-pings", views.WorkerPingViewSet, basename="worker-ping")

urlpatterns = router.urls
