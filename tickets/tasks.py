"""Background work on tickets: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from tickets import services


@shared_task(name="tickets.deliver_notification", queue="default")
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
