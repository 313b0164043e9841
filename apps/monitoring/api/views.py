"""Monitoring API: a version's periods and vintages, a run on demand, outcomes posted."""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from apps.core.config import config_get
from apps.core.errors import NotFound
from apps.datasets.models import DatasetVersion
from apps.models.models import Model, ModelVersion
from apps.users.permissions import HasPerms

from .. import selectors, services
from ..errors import MonitoringInvalid
from ..models import Granularity
from .serializers import (
    OutcomesRequestSerializer,
    OutcomesResultSerializer,
    RunRequestSerializer,
    RunResultSerializer,
)

# Every role reads monitoring; analysts run it; analysts and integrators post outcomes.
READ = HasPerms.of("monitoring.view_monitoringperiod")
RUN = HasPerms.of("monitoring.add_monitoringperiod")
POST_OUTCOMES = HasPerms.of("monitoring.add_outcome")

GRANULARITY = OpenApiParameter(
    "granularity", str, enum=list(Granularity.values), description="week or month (default: the setting)."
)


def _version(pk: int) -> ModelVersion:
    version = ModelVersion.objects.select_related("model").filter(pk=pk).first()
    if version is None:
        raise NotFound(gettext("Model version #%(id)s does not exist.") % {"id": pk})
    return version


def _granularity(value: str | None) -> str:
    value = value or str(config_get("monitoring-granularity"))
    if value not in Granularity.values:
        raise MonitoringInvalid(
            gettext('Granularity must be "week" or "month", not "%(value)s".') % {"value": value},
            errors={"granularity": [gettext("Choose week or month.")]},
        )
    return value


def _int(value, field: str) -> int:
    if isinstance(value, bool) or not str(value).isdigit():
        raise MonitoringInvalid(errors={field: [gettext("A whole number (an id) is required.")]})
    return int(value)


@extend_schema(parameters=[GRANULARITY], responses=OpenApiTypes.OBJECT, operation_id="monitoring_periods")
@api_view(["GET"])
@permission_classes([READ])
def periods(request, pk: int):
    """The monitoring periods of a version, oldest first, with their figures."""
    version = _version(pk)
    granularity = _granularity(request.query_params.get("granularity"))
    rows = [selectors.period_data(p) for p in selectors.periods_of(version, granularity)]
    return Response({"version": version.pk, "granularity": granularity, "periods": rows})


@extend_schema(responses=OpenApiTypes.OBJECT, operation_id="monitoring_vintages")
@api_view(["GET"])
@permission_classes([READ])
def vintages(request, pk: int):
    """Vintage curves of a version: cumulative event rate by months on book per cohort; a
    cohort shows a month on book only once it is that old (the label delay)."""
    version = _version(pk)
    return Response(
        {
            "version": version.pk,
            "vintages": [selectors.vintage_data(v) for v in selectors.vintages_of(version)],
        }
    )


@extend_schema(request=RunRequestSerializer, responses=RunResultSerializer, operation_id="monitoring_run")
@api_view(["POST"])
@permission_classes([RUN])
def run(request, pk: int):
    """Compute every complete period of the version not stored yet (idempotent). Body:
    ``granularity`` (optional), ``datasetVersion`` (optional id: a dataset version with a time
    column instead of the decision log)."""
    version = _version(pk)
    granularity = _granularity(request.data.get("granularity"))
    dataset_version = None
    if request.data.get("dataset_version") is not None:
        dv_id = _int(request.data["dataset_version"], "dataset_version")
        dataset_version = DatasetVersion.objects.filter(pk=dv_id).first()
        if dataset_version is None:
            raise NotFound(gettext("Dataset version #%(id)s does not exist.") % {"id": dv_id})
    result = services.monitoring_run(
        version=version, granularity=granularity, dataset_version=dataset_version
    )
    response = Response(result)
    response.message = gettext("%(count)s new period(s) stored.") % {"count": len(result["created"])}
    return response


@extend_schema(
    request=OutcomesRequestSerializer, responses=OutcomesResultSerializer, operation_id="monitoring_outcomes"
)
@api_view(["POST"])
@permission_classes([POST_OUTCOMES])
def outcomes(request):
    """Record outcomes of scored entities. Body: ``model`` (id) and ``outcomes``, a list of at
    most 10,000 ``{entityKey, outcome (0/1), outcomeAt}``; or ``version`` and
    ``datasetVersion`` (ids) to take them from a labelled dataset version joined on its key
    column. Keys never scored for the model are counted in ``unknown``, not stored."""
    data = request.data
    if data.get("dataset_version") is not None:
        version = _version(_int(data.get("version"), "version"))
        dv_id = _int(data["dataset_version"], "dataset_version")
        dataset_version = DatasetVersion.objects.filter(pk=dv_id).first()
        if dataset_version is None:
            raise NotFound(gettext("Dataset version #%(id)s does not exist.") % {"id": dv_id})
        result = services.outcomes_from_dataset(version=version, dataset_version=dataset_version)
    else:
        model_id = _int(data.get("model"), "model")
        if not Model.objects.filter(pk=model_id).exists():
            raise NotFound(gettext("Model #%(id)s does not exist.") % {"id": model_id})
        result = services.outcomes_record(model_id=model_id, rows=data.get("outcomes"))
    response = Response(result)
    response.message = (
        gettext("%(recorded)s outcome(s) recorded, %(unknown)s unknown entity key(s).") % result
    )
    return response
