"""Demo models on the demo credit feature set, so the registry is not empty: a LightGBM and a
scorecard, both active and answering with reasons, and a reason dictionary for their features."""

from __future__ import annotations

from django.utils.translation import gettext

from apps.datasets.demo_data.credit import credit_feature_descriptions
from apps.features.demo import SET_NAME
from apps.features.models import FeatureSet
from apps.tasks.runner import task_execute

from . import services as registry
from . import training_tasks
from .labels import algorithm_label
from .models import Model, ModelVersion, ReasonText

MODEL_NAME = "demo-credit-lgbm"
SCORECARD_NAME = "demo-credit-scorecard"
DEMO_MODELS = (
    (
        MODEL_NAME,
        "lightgbm",
        {"num_boost_round": 300, "learning_rate": 0.05, "early_stopping_rounds": 30},
    ),
    (SCORECARD_NAME, "scorecard", {"pdo": 20, "base_score": 600, "base_odds": 50, "max_n_bins": 5}),
)


def load_demo_model(*, user, write=print) -> None:
    feature_set = FeatureSet.objects.filter(name=SET_NAME).order_by("-version").first()
    if feature_set is None:
        return
    for name, algorithm, params in DEMO_MODELS:
        if not Model.objects.filter(name=name).exists():
            _train(name, algorithm, params, feature_set, user, write)
    _load_reason_dictionary(feature_set, write)


def _train(name: str, algorithm: str, params: dict, feature_set: FeatureSet, user, write) -> None:
    task = training_tasks.training_create(
        user=user,
        request={
            "name": name,
            "task_name": gettext("Demo credit model")
            if algorithm == "lightgbm"
            else gettext("Demo scorecard"),
            "feature_set": feature_set.pk,
            "algorithm": algorithm,
            "params": params,
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
            "algorithm": algorithm_label(result["algorithm"]),
            "auc": f"{metrics.get('auc', 0):.3f}",
            "ks": f"{metrics.get('ks', 0):.3f}",
            "seconds": f"{result['seconds']:.1f}",
        }
    )


def _load_reason_dictionary(feature_set: FeatureSet, write) -> None:
    """One reason code per demo feature, for every model (an admin rewords them in the admin)."""
    if ReasonText.objects.exists():
        return
    descriptions = credit_feature_descriptions()
    columns = [
        item.feature_version.source_column or item.feature_version.feature.name
        for item in feature_set.items.select_related("feature_version__feature").order_by("position")
    ]
    rows = []
    for number, column in enumerate(c for c in columns if c in descriptions and c != "is_bad"):
        zh, _sep, en = descriptions[column].partition(" / ")
        rows.append(
            ReasonText(
                feature=column,
                code=f"R{number + 1:02d}",
                text_zh=f"{zh}不利于本次申请",
                text_en=f"{en.split(',')[0].split(' (')[0].capitalize()} weighed against the application",
            )
        )
    ReasonText.objects.bulk_create(rows)
    write(gettext("  reason dictionary: %(count)s reason codes") % {"count": len(rows)})
