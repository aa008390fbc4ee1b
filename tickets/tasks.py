"""Background work on tickets: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from tickets import services


# Queued from requests after their commit, and nobody reads the result: with
# a result, sending it first subscribes to the result store, which with Redis
# down retries for ~19 s while the request waits (the outbox row is already
# committed, and the sweeper sends it).
@shared_task(name="tickets.deliver_notification", queue="default", ignore_result=True)
def deliver_notification(notification_id: int) -> bool:
    return services.notification_deliver(notification_id=notification_id)


@shared_task(name="tickets.deliver_owed_notifications", queue="default")
def deliver_owed_notifications() -> int:
    """Sweeper: (re)try every e-mail still owed; the number sent."""
    return sum(
        services.notification_deliver(notification_id=pk) for pk in services.notifications_owed()
    )


@shared_task(name="tickets.close_resolved_tickets", queue="default")
def close_resolved_tickets() -> int:
    """Sweeper: close resolved tickets whose reopen window has passed."""
    return services.tickets_close_resolved()
