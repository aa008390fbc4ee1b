"""The e-mail a change owes: written to the outbox in the same transaction,
delivered by Celery after commit, retried by a sweeper."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from email.utils import make_msgid
from smtplib import SMTPException

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from servicedesk.links import absolute_reverse
from servicedesk.models import Tenant, User
from tickets.models import (
    Comment,
    Notification,
    Ticket,
)
from tickets.selectors import staff_members

logger = logging.getLogger(__name__)

# --- Notifications (the outbox) --------------------------------------------------------------

SUBJECTS = {
    "created": "We received your {kind}",
    "assigned": "Assigned to you",
    "reply": "New reply",
    "note": "Internal note",
    "pending": "Waiting for your answer",
    "resolved": "Resolved",
    "merged": "Merged into {other}",
    "sla_warning": "SLA warning",
    "sla_breach": "SLA breached",
}


def _mail_domain() -> str:
    return (settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "servicedesk.local").strip("> ")


def ticket_url(ticket: Ticket, *, staff: bool, tenant_slug: str | None = None) -> str:
    slug = tenant_slug or Tenant.objects.values_list("slug", flat=True).get(pk=ticket.tenant_id)
    name = "tickets:desk_ticket" if staff else "tickets:portal_ticket"
    return absolute_reverse(name, kwargs={"tenant_slug": slug, "key": ticket.key})


def notify(
    ticket: Ticket,
    reason: str,
    recipients: Iterable[User | None],
    *,
    exclude: User | None,
    comment: Comment | None = None,
    other: Ticket | None = None,
    detail: str = "",
) -> list[Notification]:
    """Write the e-mails ``reason`` owes to the outbox, one per person, in
    the caller's transaction; they are sent after commit, and the sweeper
    sends whatever a broker outage held back.

    Mails join one thread per ticket: the first one's Message-ID is the
    thread root every later one refers to."""
    if _muted.get():
        return []
    people: dict[str, User] = {}
    for user in recipients:
        if user is None or not user.is_active or user == exclude:
            continue
        people.setdefault(user.email.lower(), user)
    if not people:
        return []
    staff_ids = set(
        staff_members(tenant=ticket.tenant_id)
        .filter(pk__in=[user.pk for user in people.values()])
        .values_list("pk", flat=True)
    )
    domain = _mail_domain()
    if not ticket.thread_id:
        ticket.thread_id = make_msgid(ticket.key, domain=domain)
        ticket.save(update_fields=["thread_id"])
    slug = Tenant.objects.values_list("slug", flat=True).get(pk=ticket.tenant_id)
    headline = SUBJECTS[reason].format(
        kind=ticket.get_kind_display().lower(), other=other.key if other else ""
    )
    subject = f"[{ticket.key}] {headline}: {ticket.title}"
    rows = []
    for email, user in sorted(people.items()):
        staff = user.pk in staff_ids
        if comment is not None and comment.is_internal and not staff:
            continue  # internal notes never reach a requester
        body = render_to_string(
            "tickets/email/notification.txt",
            {
                "ticket": ticket,
                "reason": reason,
                "comment": comment,
                "other": other,
                "detail": detail,
                "recipient": user,
                "url": ticket_url(ticket, staff=staff, tenant_slug=slug),
            },
        )
        rows.append(
            Notification(
                tenant_id=ticket.tenant_id,
                ticket=ticket,
                recipient=email,
                reason=reason,
                subject=subject[:300],
                body=body,
                message_id=make_msgid(f"{ticket.key}.{uuid.uuid4().hex[:12]}", domain=domain),
                in_reply_to=ticket.thread_id if reason != "created" else "",
                references=ticket.thread_id if reason != "created" else "",
            )
        )
    if reason == "created" and rows:
        # The first mail is the thread root itself.
        rows[0].message_id = ticket.thread_id
    created = Notification.objects.bulk_create(rows)
    _deliver_after_commit([row.pk for row in created])
    return created


def _deliver_after_commit(notification_ids: list[int]) -> None:
    """Queue delivery once the change is committed. The task is looked up
    by name (tasks sit above services); a broker that cannot take it is
    logged, and the sweeper sends the mail a minute later."""

    def send() -> None:
        try:
            task = current_app.tasks["tickets.deliver_notification"]
            for pk in notification_ids:
                task.delay(pk)
        except Exception:
            logger.exception("could not queue notifications %s", notification_ids)

    transaction.on_commit(send)


MAX_ATTEMPTS = 5

_muted: ContextVar[bool] = ContextVar("notifications_muted", default=False)


@contextmanager
def notifications_muted() -> Iterator[None]:
    """Write no e-mail inside this block: for importing history and demo
    data, where nobody should be mailed about events of the past."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def notification_deliver(*, notification_id: int, now: datetime | None = None) -> bool:
    """Send one outbox e-mail. The row is locked while sending and marked
    sent in the same transaction, so a duplicate task or a second sweeper
    never sends it twice. A refusal is recorded for the next sweep."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            Notification.objects.unscoped()
            .select_for_update(skip_locked=True)
            .filter(pk=notification_id, sent_at__isnull=True)
            .first()
        )
        if row is None:
            return False
        headers = {"Message-ID": row.message_id, "Auto-Submitted": "auto-generated"}
        if row.in_reply_to:
            headers["In-Reply-To"] = row.in_reply_to
            headers["References"] = row.references
        message = EmailMessage(
            subject=row.subject, body=row.body, to=[row.recipient], headers=headers
        )
        row.attempts += 1
        row.last_attempt_at = now
        try:
            message.send()
        except (SMTPException, OSError) as error:
            row.last_error = str(error)[:300]
            row.save(update_fields=["attempts", "last_attempt_at", "last_error"])
            logger.warning("notification %s not sent: %s", row.pk, error)
            return False
        row.sent_at = now
        row.last_error = ""
        row.save(update_fields=["attempts", "last_attempt_at", "last_error", "sent_at"])
        return True


def notifications_owed(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Unsent mail due a (re)try: never tried and older than a minute (its
    own task is likely just running), or failed and past its backoff."""
    now = now or timezone.now()
    owed = []
    for pk, attempts, created_at, last_attempt_at in (
        Notification.objects.unscoped()
        .filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        .order_by("created_at")
        .values_list("pk", "attempts", "created_at", "last_attempt_at")[:limit]
    ):
        since = last_attempt_at or created_at
        if now - since >= timedelta(minutes=2**attempts):
            owed.append(pk)
    return owed
