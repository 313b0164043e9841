from django.urls import path

from apps.core.api.routers import Router

from . import views

router = Router()
router.register("qa/sessions", views.SessionViewSet, basename="qa-session")
router.register("qa/history", views.HistoryViewSet, basename="qa-history")
router.register("qa/evaluations", views.QAEvaluationViewSet, basename="qa-evaluation")

urlpatterns = [
    path("qa/ask", views.ask, name="qa-ask"),
    path("qa/train", views.train, name="qa-train"),
    *router.urls,
]
