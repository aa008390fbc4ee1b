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

from celery.beat import EmbeddedService

from servicedesk.celery import app

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_service: EmbeddedService | None = None


def start_embedded_beat() -> None:
    """Start the in-process beat thread once per process."""
    global _service
    with _lock:
        if _service is not None:
            return
        _service = EmbeddedService(app, thread=True, schedule_filename=None)
        _service.start()
        logger.info("embedded beat started: periodic tasks run in this process")
