from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=False)
router.register("features", views.FeatureViewSet, basename="feature")
router.register("feature-sets", views.FeatureSetViewSet, basename="feature-set")

urlpatterns = router.urls
