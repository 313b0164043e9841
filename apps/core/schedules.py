"""The platform's own periodic jobs, declared once; setup_periodic_tasks writes them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    crontab: dict  # minute, hour, day_of_week, day_of_month, month_of_year
    description: str
    queue: str = "default"


PLATFORM_SCHEDULES: list[Schedule] = [
    Schedule(
        name="omm: purge API audit log",
        task="core.purge_audit_logs",
        crontab={"minute": "15", "hour": "3"},
        description="Delete API audit log entries past their retention period.",
    ),
    Schedule(
        name="omm: purge stale worker heartbeats",
        task="core.purge_stale_heartbeats",
        crontab={"minute": "30", "hour": "*"},
        description="Forget workers and beats that stopped reporting a day ago.",
    ),
    Schedule(
        name="omm: reap lost tasks",
        task="tasks.reap_stuck",
        crontab={"minute": "*"},
        description="Queue again (or fail) running tasks whose worker stopped reporting.",
    ),
    Schedule(
        name="omm: monitor active model versions",
        task="evaluations.monitor",
        crontab={"minute": "30", "hour": "4"},
        description="Evaluate each active version on the newest data; flag drift past the alert settings.",
    ),
    Schedule(
        name="omm: stability by period",
        task="monitoring.run",
        crontab={"minute": "0", "hour": "5"},
        description="Sketch each day just over; store each active version's periods; evaluate alert rules.",
    ),
    Schedule(
        name="omm: purge task logs",
        task="tasks.purge_logs",
        crontab={"minute": "45", "hour": "3"},
        description="Delete task log rows past their retention period.",
    ),
    Schedule(
        name="omm: retry webhook deliveries",
        task="alerts.deliveries_sweep",
        crontab={"minute": "*/5"},
        description="Queue webhook deliveries whose retry is due and that no worker picked up.",
    ),
    Schedule(
        name="omm: maintain the decision log",
        task="models.maintain_decision_log",
        crontab={"minute": "5", "hour": "2"},
        description="Create the coming months' decision-log partitions; drop months past retention.",
    ),
]
