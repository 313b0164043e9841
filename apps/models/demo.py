"""Demo model: a LightGBM trained on the demo credit feature set, so the registry is not empty."""

from __future__ import annotations

from django.utils.translation import gettext

from apps.features.demo import SET_NAME
from apps.features.models import FeatureSet
from apps.tasks.runner import task_execute

from . import services as registry
from . import training_tasks
from .models import Model, ModelVersion

MODEL_NAME = "demo-credit-lgbm"


def load_demo_model(*, user, write=print) -> None:
    if Model.objects.filter(name=MODEL_NAME).exists():
        return
    feature_set = FeatureSet.objects.filter(name=SET_NAME).order_by("-version").first()
    if feature_set is None:
        return
    task = training_tasks.training_create(
        user=user,
        request={
            "name": MODEL_NAME,
            "task_name": gettext("Demo credit model"),
            "feature_set": feature_set.pk,
            "algorithm": "lightgbm",
            "params": {"num_boost_round": 300, "learning_rate": 0.05, "early_stopping_rounds": 30},
            "split": "time",
        },
        enqueue=False,  # trained here, so the platform starts with a model
    )
    outcome = task_execute(task_id=task.pk, worker="demo")
    task.refresh_from_db()
    if outcome != "completed":
        write(
            gettext("  demo model training %(outcome)s: %(error)s")
            % {"outcome": outcome, "error": task.error}
        )
        return
    # Active from the start, so POST /api/models/{id}/predict answers out of the box.
    version = ModelVersion.objects.get(task=task)
    registry.version_activate(version=version, user=user, reason=gettext("Demo model, promoted at setup."))
    result, metrics = task.result, task.result["metrics"]
    write(
        gettext(
            "  model %(name)s v%(version)s trained (%(algorithm)s, AUC %(auc)s, KS %(ks)s, %(seconds)s s)"
        )
        % {
            "name": result["modelName"],
            "version": result["version"],
            "algorithm": result["algorithm"],
            "auc": f"{metrics.get('auc', 0):.3f}",
            "ks": f"{metrics.get('ks', 0):.3f}",
            "seconds": f"{result['seconds']:.1f}",
        }
    )
