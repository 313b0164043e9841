from apps.core.api.routers import Router

from . import views

router = Router()
router.register("evaluation", views.EvaluationViewSet, basename="evaluation")
router.register("model-documents", views.ModelDocumentViewSet, basename="model-document")

urlpatterns = router.urls
