"""The QA services' contract: keyword-only functions, and errors of the platform's hierarchy
that the API's one handler answers with the right status and code."""

from __future__ import annotations

import inspect

import pytest

from apps.core.errors import ApplicationError, http_status_of
from apps.qa import services
from apps.qa.errors import FeedbackInvalid, NoActiveVersion, NoCorrections, QuestionInvalid


def test_every_public_service_function_takes_keywords_only():
    functions = [
        getattr(services, name) for name in services.__all__ if inspect.isfunction(getattr(services, name))
    ]
    assert len(functions) > 10
    for function in functions:
        positional = [
            p.name
            for p in inspect.signature(function).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        assert positional == [], f"{function.__module__}.{function.__name__} takes {positional} by position"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (QuestionInvalid("The question is empty."), 400, "validation_error"),
        (FeedbackInvalid({"value": ["Feedback is 1 (right) or -1 (wrong)."]}), 400, "validation_error"),
        (NoActiveVersion("No version is active."), 409, "no_active_version"),
        (NoCorrections("None of these answers was marked wrong."), 400, "no_corrections"),
    ],
)
def test_qa_errors_are_application_errors_with_their_status(error, status, code):
    assert isinstance(error, ApplicationError)
    assert (http_status_of(error), error.code) == (status, code)


def test_a_question_with_nothing_to_look_up_is_refused_before_any_lookup():
    with pytest.raises(QuestionInvalid) as refused:
        services.clean_question(question=" \x00\x07 ")
    assert refused.value.errors == {"question": ["The question is empty."]}
    with pytest.raises(QuestionInvalid, match="must be text"):
        services.clean_question(question=42)
