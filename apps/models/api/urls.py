from apps.core.api.routers import Router

from . import decisions, views

router = Router()
router.register("models", views.ModelViewSet, basename="model")
router.register("model-versions", views.ModelVersionViewSet, basename="model-version")
router.register("promotion-requests", views.PromotionRequestViewSet, basename="promotion-request")
router.register("batch-predictions", views.BatchPredictionViewSet, basename="batch-prediction")
router.register("decisions", decisions.DecisionViewSet, basename="decision")

urlpatterns = router.urls
