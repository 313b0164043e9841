"""Model registry: admin.

Models and versions come from trainings and uploads; the admin shows them with their
artifact, signature, metrics and lineage, read-only. Only a model's description and a
version's changelog can be edited. Statuses change only through the registry's services,
as admin actions that ask for a reason first (kept in the audit trail): promote (or, with
maker-checker on, request a promotion), roll back, deprecate, clear a review flag,
archive a model, approve or reject a promotion request. A version with lineage is never
deleted here.

- ``registry``: models, with their versions inline, their A/B split and lifecycle trail;
- ``versions``: versions and their lifecycle actions;
- ``governance``: the lifecycle trail and maker-checker promotion requests;
- ``serving``: sampled prediction requests (before the decision log) and batch predictions;
- ``decisions``: the decision log, every scored record;
- ``reasons``: the reason dictionary (what each reason code says, in Chinese and English).
"""

from . import decisions, governance, reasons, registry, serving, versions

__all__ = ["decisions", "governance", "reasons", "registry", "serving", "versions"]
