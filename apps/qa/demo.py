"""Demo QA model: built from the demo bank records, promoted, and checked on held-out questions."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.utils.translation import gettext

from apps.datasets import services as datasets
from apps.datasets.demo import BANKS
from apps.datasets.models import Dataset, DatasetKind, DatasetStatus
from apps.datasets.selectors import bank_records
from apps.models import services as registry
from apps.models.models import ModelVersion
from apps.tasks.runner import task_execute

from . import selectors, services
from .accuracy import shown
from .config import qa_model_name
from .models import QAEvaluation
from .questions import generate_questions

QUESTIONS_NAME = "demo-bank-questions"
QUESTIONS = 2_000
QUESTIONS_SEED = 7_777  # not the build's self-check seed: these questions are held out


def _question_set(user, records) -> Dataset | None:
    existing = Dataset.objects.filter(name=QUESTIONS_NAME).first()
    if existing is not None:
        return existing
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["question", "expected_code", "noise"])
    for q in generate_questions(records, QUESTIONS, seed=QUESTIONS_SEED, aliases=selectors.aliases_table()):
        writer.writerow([q.text, q.bank_code, q.noise])
    body = out.getvalue().encode("utf-8")
    version, _ = datasets.dataset_upload(
        name=QUESTIONS_NAME,
        kind=DatasetKind.TABULAR,
        file=ContentFile(body, name="bank_questions.csv"),
        original_name="bank_questions.csv",
        user=user,
        description="Noisy questions about the demo bank records, with the code each should get.",
    )
    version = datasets.dataset_version_validate(version_id=version.pk) or version
    return version.dataset if version.status == DatasetStatus.VALIDATED else None


def load_demo_qa(*, user, write=print) -> None:
    banks = Dataset.objects.filter(name=BANKS[0]).first()
    if banks is None or ModelVersion.objects.filter(model__name=qa_model_name()).exists():
        return
    task = services.build_create(user=user, request={"dataset": banks.pk}, enqueue=False)
    outcome = task_execute(task_id=task.pk, worker="demo")
    task.refresh_from_db()
    if outcome != "completed":
        write(gettext("  QA model build %(outcome)s: %(error)s") % {"outcome": outcome, "error": task.error})
        return
    version = ModelVersion.objects.get(task=task)
    registry.version_activate(version=version, user=user, reason=gettext("Demo QA model, promoted at setup."))
    m = version.metrics
    write(
        gettext(
            "  QA model %(name)s v%(version)s: %(records)s records in %(seconds)s s (try /qa/: %(question)s)"
        )
        % {
            "name": version.model.name,
            "version": version.version,
            "records": f"{m['records']:,}",
            "seconds": f"{m['build_seconds']:.1f}",
            "question": "工行北京海淀支行的联行号是多少",
        }
    )
    questions = _question_set(user, bank_records(version.dataset_version))
    if questions is None:
        return
    ev = services.evaluation_create(
        user=user, request={"model_version": version.pk, "dataset": questions.pk}, enqueue=False
    )
    task_execute(task_id=ev.task_id, worker="demo")
    ev = QAEvaluation.objects.get(pk=ev.pk)
    if ev.metrics:
        write(
            gettext(
                "  QA accuracy on %(questions)s held-out questions: "
                "top-1 %(top1)s of answered, not sure %(not_sure)s"
            )
            % {
                "questions": f"{ev.metrics['questions']:,}",
                "top1": shown(ev.metrics["top1"]),
                "not_sure": shown(ev.metrics["not_sure"]),
            }
        )
