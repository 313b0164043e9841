from apps.core.api.routers import Router

from . import views

router = Router()
router.register("features", views.FeatureViewSet, basename="feature")
router.register("feature-sets", views.FeatureSetViewSet, basename="feature-set")

urlpatterns = router.urls
