"""Bank clearing-code question answering: building QA models, asking, sessions, feedback,
corrections and accuracy evaluations.

A QA model is a registry model of type ``retrieval``: building one is a training task of
kind ``retrieval`` whose artifact is the index (``omm-retrieval``, no pickle), signed and
versioned like any model, and promoted like any model. ``ask`` answers with the active
version of the model named by the ``qa-model`` setting, loaded once per process and
reloaded when another version becomes active.

One module per topic: ``asking`` (the hot path: the loaded index, the answer cache, history
rows), ``build`` (the build kind), ``feedback`` (sessions, feedback, corrections export),
``evaluation`` (the accuracy evaluation kind) and ``kinds`` (their registration). The
public functions are re-exported here; module state (``asking._indexes``) is reached
through its own module.
"""

from __future__ import annotations

from ..errors import FeedbackInvalid, NoActiveVersion, NoCorrections, QuestionInvalid
from .asking import Asked, answer, ask, clean_question, loaded_index, warm_up
from .build import KIND, build_check, build_create, build_work
from .evaluation import evaluation_check, evaluation_create, evaluation_work
from .feedback import corrections_csv, corrections_export, feedback_give, session_create
from .kinds import register

__all__ = [
    "KIND",
    "Asked",
    "FeedbackInvalid",
    "NoActiveVersion",
    "NoCorrections",
    "QuestionInvalid",
    "answer",
    "ask",
    "build_check",
    "build_create",
    "build_work",
    "clean_question",
    "corrections_csv",
    "corrections_export",
    "evaluation_check",
    "evaluation_create",
    "evaluation_work",
    "feedback_give",
    "loaded_index",
    "register",
    "session_create",
    "warm_up",
]
