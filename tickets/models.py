"""Tickets: incidents, requests, problems and changes, with their conversation,
files, links, audit trail and the mail they owe.

The workflow (which status may follow which) lives in ``tickets.workflow``;
every write goes through ``tickets.services``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from guardian.models import UserObjectPermissionBase

from servicedesk.tenancy import TenantOwned


class TicketKind(models.TextChoices):
    INCIDENT = "incident", "Incident"
    REQUEST = "request", "Request"
    PROBLEM = "problem", "Problem"
    CHANGE = "change", "Change"


KIND_PREFIX: dict[str, str] = {
    TicketKind.INCIDENT: "INC",
    TicketKind.REQUEST: "REQ",
    TicketKind.PROBLEM: "PRB",
    TicketKind.CHANGE: "CHG",
}
PREFIX_KIND = {prefix: kind for kind, prefix in KIND_PREFIX.items()}
TICKET_KEY = re.compile(r"^(?P<prefix>[A-Za-z]{3})-(?P<number>[1-9][0-9]{0,9})$")


def parse_ticket_key(key: str) -> tuple[str, int] | None:
    """``"INC-42"`` -> ``("incident", 42)``; ``None`` for anything else."""
    match = TICKET_KEY.match(key or "")
    if not match:
        return None
    kind = PREFIX_KIND.get(match["prefix"].upper())
    number = int(match["number"])
    if kind is None or number > 2_147_483_647:
        return None
    return kind, number


class Status(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    PENDING = "pending", "Pending"
    KNOWN_ERROR = "known_error", "Known error"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.PENDING, Status.KNOWN_ERROR)
DONE_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)


class Level(models.IntegerChoices):
    """Impact and urgency: 1 is the most serious."""

    HIGH = 1, "High"
    MEDIUM = 2, "Medium"
    LOW = 3, "Low"


class Priority(models.IntegerChoices):
    CRITICAL = 1, "P1 Critical"
    HIGH = 2, "P2 High"
    MODERATE = 3, "P3 Moderate"
    LOW = 4, "P4 Low"
    PLANNING = 5, "P5 Planning"


class ResolutionCode(models.TextChoices):
    SOLVED = "solved", "Solved"
    WORKAROUND = "workaround", "Solved with a workaround"
    NO_FAULT_FOUND = "no_fault_found", "No fault found"
    NOT_REPRODUCIBLE = "not_reproducible", "Not reproducible"
    USER_ERROR = "user_error", "User error / advice given"
    DUPLICATE = "duplicate", "Duplicate"
    WONT_FIX = "wont_fix", "Won't fix"


class ActorKind(models.TextChoices):
    USER = "user", "User"
    AUTOMATION = "automation", "Automation"
    INTEGRATION = "integration", "Integration"
    SYSTEM = "system", "System"


class Source(models.TextChoices):
    PORTAL = "portal", "Portal"
    DESK = "desk", "Desk"
    API = "api", "API"
    EMAIL = "email", "E-mail"
    ALERT = "alert", "Alert"


def default_priority_matrix() -> dict[str, dict[str, int]]:
    """priority = impact + urgency - 1, keyed ``matrix[impact][urgency]``."""
    return {str(i): {str(u): i + u - 1 for u in (1, 2, 3)} for i in (1, 2, 3)}


class TicketSettings(TenantOwned):
    """A tenant's ticket rules: the priority matrix and the reopen window."""

    priority_matrix = models.JSONField(default=default_priority_matrix)
    reopen_window_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(0), MaxValueValidator(365)]
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant"], name="ticketsettings_one_per_tenant")
        ]

    def priority_for(self, impact: int, urgency: int) -> int:
        try:
            return int(self.priority_matrix[str(impact)][str(urgency)])
        except (KeyError, TypeError, ValueError):
            return impact + urgency - 1


class TicketCounter(TenantOwned):
    """The last number handed out per tenant and kind. Incremented with a
    row lock (``UPDATE … RETURNING``), so concurrent creations never share a
    number and never skip one -- unlike ``max()+1``."""

    kind = models.CharField(max_length=16, choices=TicketKind.choices)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "kind"], name="ticketcounter_unique")
        ]


class Category(TenantOwned):
    name = models.CharField(max_length=100)

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name_plural = "categories"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "name"], name="category_tenant_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Tag(TenantOwned):
    name = models.SlugField(max_length=50, allow_unicode=True)

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "name"], name="tag_tenant_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Ticket(TenantOwned):
    """One piece of work: an incident, request, problem or change."""

    kind = models.CharField(max_length=16, choices=TicketKind.choices)
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    impact = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.LOW)
    urgency = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.LOW)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.LOW)
    # Set when an agent chose the priority instead of the matrix.
    priority_override_reason = models.CharField(max_length=300, blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(
        "servicedesk.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    tags = models.ManyToManyField(Tag, through="TicketTag", related_name="tickets", blank=True)
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Watcher", related_name="watched_tickets", blank=True
    )
    is_confidential = models.BooleanField(default=False)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.PORTAL)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution_code = models.CharField(max_length=32, choices=ResolutionCode.choices, blank=True)
    resolution_notes = models.TextField(blank=True)
    reopen_count = models.PositiveIntegerField(default=0)

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    # Incidents and requests caused by a problem.
    problem = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    # Changes and the incidents/problems they fix.
    changes = models.ManyToManyField(
        "self", through="ChangeLink", symmetrical=False, related_name="fixed_by", blank=True
    )
    # The Message-ID of the first e-mail about this ticket: the thread root.
    thread_id = models.CharField(max_length=200, blank=True)

    class Meta:
        permissions: ClassVar = [
            ("view_confidential_ticket", "Can see this confidential ticket"),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "number"], name="ticket_tenant_kind_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="ticket_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(priority__gte=1, priority__lte=5), name="ticket_priority_range"
            ),
            models.CheckConstraint(
                condition=models.Q(impact__gte=1, impact__lte=3, urgency__gte=1, urgency__lte=3),
                name="ticket_impact_urgency_range",
            ),
        ]
        # Every queue leads with the tenant and ends on a sort key.
        indexes: ClassVar = [
            models.Index(fields=["tenant", "status", "-updated_at"], name="ticket_queue_status"),
            models.Index(fields=["tenant", "-updated_at"], name="ticket_queue_updated"),
            models.Index(fields=["tenant", "assignee", "status"], name="ticket_queue_assignee"),
            models.Index(fields=["tenant", "team", "status"], name="ticket_queue_team"),
            models.Index(fields=["tenant", "requester", "-created_at"], name="ticket_requester"),
            models.Index(fields=["tenant", "-created_at"], name="ticket_created"),
            # The desk's queue counts read open tickets only, from this
            # index alone (PostgreSQL; elsewhere the INCLUDE is dropped).
            models.Index(
                fields=["tenant", "assignee", "team"],
                include=["id", "status", "is_confidential", "requester"],
                name="ticket_open_queues",
                condition=models.Q(status__in=["new", "in_progress", "pending", "known_error"]),
            ),
            models.Index(
                fields=["tenant", "resolved_at"],
                name="ticket_resolved_open",
                condition=models.Q(status="resolved"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    @property
    def key(self) -> str:
        return f"{KIND_PREFIX[self.kind]}-{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketTag(TenantOwned):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    # No index of its own: with one, the planner walks a popular tag's every
    # link to prefetch the tags of a page of tickets; (tenant, ticket, tag)
    # serves that, (tenant, tag) serves "tickets with this tag".
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, db_index=False)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "ticket", "tag"], name="tickettag_unique")
        ]
        indexes: ClassVar = [models.Index(fields=["tenant", "tag"])]


class Watcher(TenantOwned):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "ticket", "user"], name="watcher_unique")
        ]
        indexes: ClassVar = [models.Index(fields=["tenant", "user"])]


class ChangeLink(TenantOwned):
    """A change (``from_ticket``) and an incident or problem it fixes."""

    from_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    to_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "from_ticket", "to_ticket"], name="changelink_unique"
            )
        ]


class TicketUserObjectPermission(UserObjectPermissionBase):
    """django-guardian grants on tickets with a real foreign key, so "who may
    see this confidential ticket" joins instead of casting ids to text."""

    content_object = models.ForeignKey(Ticket, on_delete=models.CASCADE)


class Comment(TenantOwned):
    """A public reply or an internal note. Internal notes never reach a requester."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    is_internal = models.BooleanField(default=False)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.DESK)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when a merge moved the comment here from a duplicate.
    moved_from = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering: ClassVar = ["created_at", "pk"]
        indexes: ClassVar = [models.Index(fields=["tenant", "ticket", "created_at"])]


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is random; the person's file name lives in a column,
    # so nothing they type ever becomes part of a path.
    return f"attachments/{instance.tenant_id}/{uuid.uuid4().hex}"


class Attachment(TenantOwned):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Files of an internal note are internal too.
    is_internal = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["created_at", "pk"]
        indexes: ClassVar = [models.Index(fields=["tenant", "ticket"])]


# How the event of a comment names it, and the action of the first response:
# the SLA clocks read the conversation from these.
COMMENT_INTERNAL = "internal note"
AGENT_REPLY = "public reply"
REQUESTER_REPLY = "requester's reply"
FIRST_RESPONSE = "responded"


class TicketEvent(TenantOwned):
    """One change to a ticket, append-only: who (a person, an automation or
    an integration), what (``action`` and, for field changes, ``field``),
    from what to what, and when. Nothing edits or deletes these rows."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices, default=ActorKind.USER)
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32)
    field = models.CharField(max_length=32, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["created_at", "pk"]
        indexes: ClassVar = [models.Index(fields=["tenant", "ticket", "created_at"])]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise RuntimeError("Ticket events are append-only")
        super().save(*args, **kwargs)


class SavedView(TenantOwned):
    """A named queue filter of one agent, optionally shared with a team."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    team = models.ForeignKey(
        "servicedesk.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="saved_views",
    )
    name = models.CharField(max_length=80)
    # The queue's query string (filters and sort), validated on save.
    query = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "owner", "name"], name="savedview_owner_name_unique"
            )
        ]
        indexes: ClassVar = [models.Index(fields=["tenant", "team"])]

    def __str__(self) -> str:
        return self.name


class Notification(TenantOwned):
    """An e-mail owed about a ticket: the outbox row, written in the same
    transaction as the change, delivered by a worker (and retried by a
    sweeper), so a broker outage delays mail but never loses it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.EmailField()
    reason = models.CharField(max_length=32)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    message_id = models.CharField(max_length=200, unique=True)
    in_reply_to = models.CharField(max_length=200, blank=True)
    references = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering: ClassVar = ["created_at", "pk"]
        indexes: ClassVar = [
            models.Index(
                fields=["created_at"],
                name="notification_unsent",
                condition=models.Q(sent_at__isnull=True),
            ),
            models.Index(fields=["tenant", "ticket"]),
        ]
