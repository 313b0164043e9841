from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=False)
router.register("qa/sessions", views.SessionViewSet, basename="qa-session")
router.register("qa/history", views.HistoryViewSet, basename="qa-history")
router.register("qa/evaluations", views.QAEvaluationViewSet, basename="qa-evaluation")

urlpatterns = [
    path("qa/ask", views.ask, name="qa-ask"),
    path("qa/train", views.train, name="qa-train"),
    *router.urls,
]
