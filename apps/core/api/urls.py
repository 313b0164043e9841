from . import views
from .routers import Router

router = Router()
router.register("system/config", views.SystemConfigViewSet, basename="system-config")
router.register("system/audit-logs", views.ApiAuditLogViewSet, basename="audit-log")
router.register("system/audit-trail", views.TrailViewSet, basename="audit-trail")
router.register("system/workers", views.WorkerViewSet, basename="worker")
router.register("system/worker-pings", views.WorkerPingViewSet, basename="worker-ping")

urlpatterns = router.urls
