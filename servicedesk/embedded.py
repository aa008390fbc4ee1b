"""Periodic work in embedded mode (no Redis, no separate processes).

Celery's own beat service runs in a daemon thread of the web process, reading
the same database schedule (django-celery-beat) as production's ``celery
beat``. With ``task_always_eager`` each due task runs right there in that
thread instead of going to a broker, so what runs periodically in production
runs periodically here too.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery.beat import EmbeddedService

from servicedesk.celery import app

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_service: Any = None


def embedded_beat_service() -> Any:
    """Celery's threaded beat service on the database schedule.

    The scheduler class is passed explicitly: unlike the ``celery beat``
    command, the service itself does not read ``beat_scheduler`` and would fall
    back to a shelve file.
    """
    # A worker imports every app's tasks.py at start-up; here nothing else
    # would, and beat would then publish to the in-memory broker, unheard.
    app.loader.import_default_modules()
    return EmbeddedService(app, thread=True, scheduler_cls=app.conf.beat_scheduler)


def start_embedded_beat() -> None:
    """Start the in-process beat thread once per process."""
    global _service
    with _lock:
        if _service is not None:
            return
        _service = embedded_beat_service()
        _service.start()
        logger.info("embedded beat started: periodic tasks run in this process")
