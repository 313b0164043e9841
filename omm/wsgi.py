"""WSGI entry point (gunicorn omm.wsgi)."""

import gc
import os
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omm.settings")
application = get_wsgi_application()

# What is loaded by now lives as long as the worker: keep full collections from scanning
# it again and again (pauses of 130-150 ms per worker were measured under load).
gc.freeze()

# Load the QA index while the worker waits for its first request (about a second for the
# demo's 150,000 records); a question arriving meanwhile waits for the same load.
if os.environ.get("OMM_WARM_QA", "1") == "1":
    from apps.qa.services import warm_up

    threading.Thread(target=warm_up, name="omm-qa-warm-up", daemon=True).start()
