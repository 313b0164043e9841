"""The peer of the prediction benchmark: a bare Django view serving the same model.

No auth, no schema checks, no cache, no logging: json.loads, the same matrix building and
LightGBM call, JsonResponse. Mounted next to OMM's URLs by ``benchmarks.predict_settings``.
"""

from __future__ import annotations

import json
import os

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

_model: dict = {}


def _loaded():
    if not _model:
        from apps.models import artifacts, training
        from apps.models.services import artifact_key

        with open(os.environ["BENCH_ARTIFACT"], "rb") as fh:
            artifact = artifacts.unpack(fh.read(), key=artifact_key())
        meta = artifact.meta
        _model.update(
            model=artifacts.load_model(artifact),
            features=meta["features"],
            codes={
                n: {v: i for i, v in enumerate(levels)} for n, levels in meta["categorical_levels"].items()
            },
            training=training,
        )
    return _model


@csrf_exempt
def bare_predict(request):
    m = _loaded()
    body = json.loads(request.body)
    records = [body["record"]] if "record" in body else body["records"]
    X = m["training"].records_matrix(records, m["features"], m["codes"])
    scores = m["training"].score_matrix("lightgbm-text", m["model"], X, "binary", num_threads=1)
    return JsonResponse({"scores": scores.tolist()})


urlpatterns = [path("bare/predict", bare_predict), path("", include("omm.urls"))]
