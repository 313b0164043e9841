from apps.core.api.routers import Router

from . import views

router = Router()
router.register("tasks/schedules", views.ScheduleViewSet, basename="task-schedule")
router.register("tasks", views.TaskViewSet, basename="task")

urlpatterns = router.urls
