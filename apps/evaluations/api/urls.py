from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=False)
router.register("evaluation", views.EvaluationViewSet, basename="evaluation")
router.register("model-documents", views.ModelDocumentViewSet, basename="model-document")

urlpatterns = router.urls
