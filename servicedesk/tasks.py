"""Background work of the tenancy core; thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from servicedesk import services


@shared_task(name="servicedesk.purge_stale_invitations", queue="default")
def purge_stale_invitations() -> int:
    """Housekeeping: drop never-accepted invitations long past their expiry."""
    return services.invitations_purge_stale()


@shared_task(name="servicedesk.ping", queue="default")
def ping() -> str:
    """Round trip through broker and worker; used by operators and tests."""
    return "pong"
