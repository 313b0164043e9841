"""Exports of trained models to portable formats (pure: no Django import).

- ``onnx``: ``onnx_export`` (verified ONNX bytes), ``export_schema``, ``run_onnx``;
- ``_trees``: tree ensembles as one ONNX TreeEnsemble-5 node in double precision.
"""

from .onnx import (
    EXPORT_FORMATS,
    MAX_CHECK_ROWS,
    TOLERANCE,
    ExportError,
    ExportUnsupported,
    OnnxExport,
    export_schema,
    onnx_export,
    run_onnx,
)

__all__ = [
    "EXPORT_FORMATS",
    "MAX_CHECK_ROWS",
    "TOLERANCE",
    "ExportError",
    "ExportUnsupported",
    "OnnxExport",
    "export_schema",
    "onnx_export",
    "run_onnx",
]
