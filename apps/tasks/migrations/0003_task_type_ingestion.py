from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0002_task_types_evaluation_prediction"),
    ]

    operations = [
        migrations.AlterField(
            model_name="task",
            name="type",
            field=models.CharField(
                choices=[
                    ("training", "Training"),
                    ("evaluation", "Evaluation"),
                    ("prediction", "Batch prediction"),
                    ("ingestion", "Ingestion"),
                ],
                db_index=True,
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="taskschedule",
            name="type",
            field=models.CharField(
                choices=[
                    ("training", "Training"),
                    ("evaluation", "Evaluation"),
                    ("prediction", "Batch prediction"),
                    ("ingestion", "Ingestion"),
                ],
                default="training",
                max_length=20,
            ),
        ),
    ]
