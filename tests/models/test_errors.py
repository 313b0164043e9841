"""The registry's errors in the platform's hierarchy: the class gives the HTTP status, the
one exception handler the format; fields at fault are named in ``errors``."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.errors import ApplicationError, Conflict, Invalid, NotFound, http_status_of
from apps.datasets.models import DatasetStatus
from apps.models import errors, serving
from apps.models.artifacts import ArtifactError
from tests.models.test_governance import _lgb_text, _post_upload, _train


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (errors.LifecycleError("x"), 409, "conflict"),
        (errors.ConcurrentChange("x"), 409, "conflict"),
        (errors.ModelNameTaken("x"), 400, "validation_error"),
        (errors.VersionTaken("x"), 400, "validation_error"),
        (errors.UploadRefused("x"), 400, "validation_error"),
        (errors.ReproductionImpossible("x"), 409, "conflict"),
        (ArtifactError("bad_signature", "x"), 400, "bad_signature"),
        (errors.RecordsInvalid("x", problems=["p"]), 400, "validation_error"),
        (errors.WrongModelType("x"), 400, "wrong_type"),
        (errors.ModelNotFound("x"), 404, "not_found"),
        (errors.ModelArchived("x"), 409, "archived"),
        (errors.NoActiveVersion("x"), 409, "no_active_version"),
        (errors.VersionUnloadable("x"), 409, "artifact_invalid"),
    ],
)
def test_each_error_answers_with_the_status_of_its_class(error, status, code):
    assert isinstance(error, ApplicationError)
    assert http_status_of(error) == status and error.code == code and error.message == "x"


def test_prediction_refusals_share_one_base_class():
    for cls in (errors.RecordsInvalid, errors.WrongModelType, errors.ModelNotFound, errors.NoActiveVersion):
        assert issubclass(cls, serving.PredictionRefused)
    assert issubclass(errors.ModelNotFound, NotFound) and issubclass(errors.ModelArchived, Conflict)
    assert issubclass(errors.RecordsInvalid, Invalid)


def test_field_errors_name_their_field():
    assert errors.VersionTaken("taken").errors == {"version": ["taken"]}
    assert errors.UploadRefused("unsafe").errors == {"file": ["unsafe"]}
    assert errors.ModelNameTaken("exists").errors == {"name": ["exists"]}
    assert errors.RecordsInvalid("bad", problems=["record 0: x"]).errors == {"records": ["record 0: x"]}


# --------------------------------------------------------------------------- through the API


@pytest.mark.django_db
def test_api_names_the_field_a_service_refused(api):
    body = {"name": "ext", "type": "classification", "algorithm": "lightgbm"}
    assert api.post("/api/models", body, format="json").status_code == 201
    r = api.post("/api/models", body, format="json").json()
    assert r["code"] == "validation_error" and r["errors"] == {"name": ["A model named 'ext' exists."]}
    assert r["message"] == "Invalid input: name: A model named 'ext' exists."

    assert _post_upload(api, model="ext", file=SimpleUploadedFile("m.txt", _lgb_text())).status_code == 201
    r = _post_upload(api, model="ext", version=1, file=SimpleUploadedFile("m.txt", _lgb_text()))
    assert r.status_code == 400 and r.json()["errors"] == {"version": ["ext already has a version 1."]}

    r = _post_upload(api, model="ext", file=SimpleUploadedFile("m.pkl", b"\x80\x04junk"))
    assert r.status_code == 400 and r.json()["code"] == "validation_error"
    assert list(r.json()["errors"]) == ["file"] and "pickle" in r.json()["message"]


@pytest.mark.django_db
def test_reproducing_a_training_whose_data_is_gone_is_a_conflict(api, admin_user, credit_version):
    trained = _train(admin_user, credit_version.dataset_id)
    type(credit_version).objects.filter(pk=credit_version.pk).update(status=DatasetStatus.ERROR)
    r = api.post(f"/api/model-versions/{trained.pk}/reproduce", format="json")
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert r.json()["message"].startswith("The training can no longer run as it did: ")
