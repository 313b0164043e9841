"""The OMM Celery application.

Configuration comes from Django settings (``CELERY_*``). Each worker and beat process
writes a liveness row every ``OMM_HEARTBEAT_SECONDS`` so that /health, the dashboard
and the stuck-task reaper know which processes are alive on any broker.
"""

from __future__ import annotations

import os
import threading

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omm.settings")

app = Celery("omm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_stop = threading.Event()


def _start_heartbeat(kind: str, hostname: str, queues: list[str]) -> None:
    from apps.core.services import heartbeat_beat

    def loop() -> None:
        from django.conf import settings
        from django.db import close_old_connections

        while not _stop.is_set():
            try:
                heartbeat_beat(kind=kind, hostname=hostname, pid=os.getpid(), queues=queues)
            except Exception:
                import logging

                logging.getLogger(__name__).exception("heartbeat failed")
            finally:
                close_old_connections()
            _stop.wait(settings.OMM_HEARTBEAT_SECONDS)

    threading.Thread(target=loop, name=f"omm-{kind}-heartbeat", daemon=True).start()


@signals.worker_ready.connect
def _worker_ready(sender=None, **_kwargs) -> None:
    queues = sorted(q.name for q in sender.app.amqp.queues.consume_from.values())
    _start_heartbeat("worker", sender.hostname, queues)


@signals.beat_init.connect
def _beat_init(sender=None, **_kwargs) -> None:
    import socket

    _start_heartbeat("beat", f"beat@{socket.gethostname()}", [])


@signals.worker_shutdown.connect
def _worker_shutdown(sender=None, **_kwargs) -> None:
    from apps.core.services import heartbeat_forget

    _stop.set()
    if sender is not None:
        heartbeat_forget(hostname=sender.hostname)
