from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=False)
router.register("models", views.ModelViewSet, basename="model")
router.register("model-versions", views.ModelVersionViewSet, basename="model-version")
router.register("promotion-requests", views.PromotionRequestViewSet, basename="promotion-request")
router.register("batch-predictions", views.BatchPredictionViewSet, basename="batch-prediction")

urlpatterns = router.urls
