"""Background work of the tenancy core; thin wrappers over services."""

from __future__ import annotations

import logging
from smtplib import SMTPException
from typing import Any

from celery import Task, shared_task
from django.core.mail import send_mail
from django.db import transaction

from servicedesk import services

logger = logging.getLogger(__name__)


def enqueue(task: Task, *args: Any) -> None:
    """Queue ``task`` once the current transaction commits.

    A broker that cannot take it (or, in embedded mode, a task that fails
    in-process) is logged, not raised: the request that asked has already
    done its durable part, and a sweeper or the person retries.
    """

    def send() -> None:
        try:
            task.delay(*args)
        except Exception:
            logger.exception("could not queue %s%r", task.name, args)

    transaction.on_commit(send)


# Tasks that requests queue after their commit keep no result: nobody reads
# it, and sending a task with one first subscribes to the result store, which
# with Redis down retries for ~19 s while the request waits.
@shared_task(name="servicedesk.deliver_invitation", queue="default", ignore_result=True)
def deliver_invitation(invitation_id: int) -> bool:
    return services.invitation_deliver(invitation_id=invitation_id)


@shared_task(name="servicedesk.deliver_owed_invitations", queue="default")
def deliver_owed_invitations() -> int:
    """Sweeper: (re)try every invitation e-mail still owed; the number sent."""
    return sum(
        services.invitation_deliver(invitation_id=invitation_id)
        for invitation_id in services.invitations_owed()
    )


@shared_task(
    name="servicedesk.send_email",
    queue="default",
    ignore_result=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    max_retries=6,
)
def send_email(subject: str, body: str, to: str) -> None:
    """One plain e-mail, retried with backoff while the mail server refuses it."""
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[to])


@shared_task(name="servicedesk.purge_stale_invitations", queue="default")
def purge_stale_invitations() -> int:
    """Housekeeping: drop never-accepted invitations long past their expiry."""
    return services.invitations_purge_stale()


@shared_task(name="servicedesk.ping", queue="default")
def ping() -> str:
    """Round trip through broker and worker; used by operators and tests."""
    return "pong"
