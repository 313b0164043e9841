from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=False)
router.register("tasks/schedules", views.ScheduleViewSet, basename="task-schedule")
router.register("tasks", views.TaskViewSet, basename="task")

urlpatterns = router.urls
