"""Registering models and uploading model files: ``POST /api/models`` (JSON, or multipart
with the first version's file) and ``POST /api/models/upload``."""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from .. import selectors, services
from .serializers import ModelCreateSerializer, ModelSerializer, UploadedVersionSerializer, UploadSerializer


def _file_bytes(upload) -> bytes:
    """The uploaded file's bytes, refused unread when it is over the limit."""
    if upload.size > services.MAX_UPLOAD_BYTES:
        raise ValidationError(
            {
                "file": [
                    gettext("Model files are limited to %(mb)s MB.")
                    % {"mb": services.MAX_UPLOAD_BYTES // 2**20}
                ]
            }
        )
    return upload.read()


class RegistrationMixin:
    """Mixed into the model viewset: ``create`` and ``upload``."""

    @extend_schema(
        request={"application/json": ModelCreateSerializer, "multipart/form-data": ModelCreateSerializer},
        responses={201: ModelSerializer},
        filters=False,
    )
    def create(self, request):
        """Register a model name (type, algorithm, description) before its first version, or
        with it: a multipart form with `file` (and `version`) also uploads the first version.
        With `Accept: application/json; profile=seed` ids and version numbers are text."""
        serializer = ModelCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        upload, number = data.pop("file", None), data.pop("version", None)
        if upload is None:
            model = services.model_create(user=request.user, **data)
        else:
            model = services.model_create_with_upload(
                user=request.user,
                data=_file_bytes(upload),
                filename=upload.name,
                version_number=number,
                **data,
            ).model
        response = Response(
            ModelSerializer(selectors.models_with_latest().get(pk=model.pk)).data,
            status=status.HTTP_201_CREATED,
        )
        response.message = gettext("Model %(name)s registered.") % {"name": model.name}
        return response

    @extend_schema(
        request={"multipart/form-data": UploadSerializer}, responses={201: UploadedVersionSerializer}
    )
    @action(detail=False, methods=["post"], filterset_class=None)
    def upload(self, request):
        """Upload a LightGBM text model or a skops file as a new version; pickles are refused
        unread. The answer is the version, with the seed design's `fileId`, `url` and `size`."""
        serializer = UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        model = selectors.model_by_ref(str(data["model"]))
        if model is None:
            ref = str(data["model"]).strip()
            field = "model_id" if "model_id" in request.data else "model"  # as the client named it
            raise ValidationError(
                {
                    field: [
                        gettext("No model %(ref)s; create it first (POST /api/models).") % {"ref": repr(ref)}
                    ]
                }
            )
        upload = data["file"]
        version = services.version_upload(
            model=model,
            data=_file_bytes(upload),
            filename=upload.name,
            user=request.user,
            version_number=data.get("version"),
            features=data.get("features"),
            changelog=data["changelog"],
        )
        response = Response(
            UploadedVersionSerializer(selectors.versions().get(pk=version.pk)).data,
            status=status.HTTP_201_CREATED,
        )
        response.message = gettext("Uploaded %(version)s.") % {"version": version}
        return response
