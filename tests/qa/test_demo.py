"""The demo builds and promotes the QA model and checks it on held-out questions."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from apps.models.models import ModelVersion
from apps.qa import services
from apps.qa.demo import QUESTIONS, QUESTIONS_NAME
from apps.qa.models import QAEvaluation
from apps.users.models import User

pytestmark = pytest.mark.django_db


def test_the_demo_answers_out_of_the_box(demo):
    version = ModelVersion.objects.get(model__name="bank-qa")
    assert version.status == "active" and version.model.type == "retrieval"
    ev = QAEvaluation.objects.get()
    assert ev.dataset_version.dataset.name == QUESTIONS_NAME and ev.metrics["questions"] == QUESTIONS
    assert ev.metrics["top1"] > 0.97 and ev.metrics["not_sure"] < 0.05
    entry = services.ask(
        user=User.objects.get(username="analyst"), question="工行北京分行营业部的联行号是多少"
    )
    assert entry.sure and entry.model_version_id == version.pk
    call_command("demo")  # a second run changes nothing
    assert (
        ModelVersion.objects.filter(model__name="bank-qa").count() == 1 and QAEvaluation.objects.count() == 1
    )
