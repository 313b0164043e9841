from apps.core.api.routers import Router

from . import views

router = Router()
router.register("datasets", views.DatasetViewSet, basename="dataset")

urlpatterns = router.urls
