"""``runserver`` plus the in-process Celery beat: the embedded default.

Used by ``make run``. Refuses to run with ``REDIS_URL`` set: then real
workers and ``celery beat`` do this work.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.runserver import Command as RunserverCommand


class Command(RunserverCommand):
    help = "Serve the site with periodic tasks running in-process (embedded mode)."

    def inner_run(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError("REDIS_URL is set: run celery worker and celery beat instead.")
        # inner_run runs in the autoreloader's child, the process that serves.
        from servicedesk.embedded import start_embedded_beat

        start_embedded_beat()
        super().inner_run(*args, **options)
