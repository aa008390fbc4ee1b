"""SLAs: business calendars, policies with their targets and escalations, and
the clocks that run on tickets.

The arithmetic is in ``slo.business_time``, the clock rules in ``slo.engine``
(both pure); every write goes through ``slo.services``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone as django_timezone

from servicedesk.models import validate_timezone
from servicedesk.tenancy import TenantOwned
from slo import business_time


def default_pause_statuses() -> list[str]:
    return ["pending"]


def empty_week() -> dict[str, list[list[str]]]:
    return {day: [] for day in business_time.WEEKDAYS}


class Calendar(TenantOwned):
    """A tenant's working hours: a zone, shifts per weekday and holidays, in
    the data form the API speaks (validated by ``business_time``)."""

    name = models.CharField(max_length=100)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # {"mon": [["09:00", "17:00"]], …}; an end before the start runs past midnight.
    hours = models.JSONField(default=empty_week)
    # [{"date": "2026-12-25", "recurring": true, "name": "Christmas Day"}, …]
    holidays = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)
    updated_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "name"], name="calendar_tenant_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def schedule(self) -> business_time.BusinessCalendar:
        """The pure calendar (rows are validated on every write)."""
        return business_time.build_calendar(self.timezone, self.hours, self.holidays)


class Target(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class Policy(TenantOwned):
    """Targets for the tickets its conditions match. Policies are ordered;
    the first active one that matches a ticket applies to it. An empty
    condition matches everything."""

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    # Conditions.
    kinds = models.JSONField(default=list, blank=True)
    priorities = models.JSONField(default=list, blank=True)
    team = models.ForeignKey(
        "servicedesk.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        "tickets.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tag = models.ForeignKey(
        "tickets.Tag", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requester_organisation = models.CharField(max_length=100, blank=True)
    vip_only = models.BooleanField(default=False)

    # Targets, in business minutes of the calendar (none: the built-in 24×7).
    calendar = models.ForeignKey(
        Calendar, null=True, blank=True, on_delete=models.PROTECT, related_name="policies"
    )
    first_response_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    next_response_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    resolution_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    warning_percent = models.PositiveSmallIntegerField(
        default=80, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    pause_statuses = models.JSONField(default=default_pause_statuses, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)
    updated_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar = ["position", "pk"]
        verbose_name_plural = "policies"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "name"], name="policy_tenant_name_unique")
        ]
        indexes: ClassVar = [models.Index(fields=["tenant", "position"])]

    def __str__(self) -> str:
        return self.name

    def target_minutes(self, target: str) -> int | None:
        value: int | None = getattr(self, f"{target}_minutes")
        return value


class Trigger(models.TextChoices):
    WARNING = "warning", "Warning threshold reached"
    BREACH = "breach", "Target breached"


class EscalationAction(models.TextChoices):
    NOTIFY_TEAM_LEAD = "notify_team_lead", "Notify the team lead"
    NOTIFY_USERS = "notify_users", "Notify people"
    REASSIGN_TEAM = "reassign_team", "Reassign to a team"
    RAISE_PRIORITY = "raise_priority", "Raise the priority"


class Escalation(TenantOwned):
    """What the sweeper does when a clock of the policy warns or breaches."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="escalations")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    # Blank: every target of the policy.
    target = models.CharField(max_length=16, choices=Target.choices, blank=True)
    action = models.CharField(max_length=32, choices=EscalationAction.choices)
    team = models.ForeignKey(
        "servicedesk.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering: ClassVar = ["pk"]
        indexes: ClassVar = [models.Index(fields=["tenant", "policy"])]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()}: {self.get_action_display()}"


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    CANCELLED = "cancelled", "Cancelled"


# A clock counts while it runs, breached or not; a stopped clock keeps the
# state it ended in (met, breached, cancelled) but counts no more.
COUNTING = models.Q(running_since__isnull=False)


class Clock(TenantOwned):
    """One target of one ticket, as of its last event (``slo.engine``).

    A breached clock keeps counting until it stops, so it shows how late it
    is; ``breached_at`` stays set through pauses and after it stops.
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="clocks")
    target = models.CharField(max_length=16, choices=Target.choices)
    policy = models.ForeignKey(
        Policy, null=True, blank=True, on_delete=models.SET_NULL, related_name="clocks"
    )
    state = models.CharField(max_length=16, choices=ClockState.choices)
    # Next response restarts on each requester reply that waits for an answer.
    cycle = models.PositiveIntegerField(default=1)
    goal = models.DurationField(help_text="Business time allowed")
    started_at = models.DateTimeField()
    # Business time used before ``running_since``; the time since then is
    # counted on the calendar while the clock runs.
    used = models.DurationField(default=timedelta)
    running_since = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_total = models.DurationField(default=timedelta, help_text="Wall-clock time paused")
    warn_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # The last ticket event folded into this clock.
    event_id = models.BigIntegerField(default=0)
    # What the sweeper has handled this cycle, and when it must look next.
    warning_handled = models.BooleanField(default=False)
    breach_handled = models.BooleanField(default=False)
    sweep_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["ticket", "target"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "ticket", "target"], name="clock_ticket_target_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=ClockState.values), name="clock_state_valid"
            ),
        ]
        indexes: ClassVar = [
            # The sweeper reads only what is due: its cost follows the clocks
            # due, not the clocks running (platform-wide, so no tenant lead).
            models.Index(
                fields=["sweep_at"],
                name="clock_sweep_due",
                condition=models.Q(sweep_at__isnull=False),
            ),
            # "Breaching soon" and the SLA column read counting clocks by due
            # time, from the index alone (PostgreSQL; SQLite drops the INCLUDE).
            models.Index(
                fields=["tenant", "due_at"],
                include=["ticket_id"],
                name="clock_counting_due",
                condition=models.Q(running_since__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} of {self.ticket_id}: {self.state}"


class EscalationRun(TenantOwned):
    """An escalation that fired for one clock cycle: the unique constraint
    is what makes a second sweeper (or a second sweep) a no-op."""

    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="escalation_runs")
    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="runs")
    cycle = models.PositiveIntegerField()
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    fired_at = models.DateTimeField(default=django_timezone.now)
    # Set once the action ran (or could not); until then a sweep retries it.
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering: ClassVar = ["fired_at", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "clock", "escalation", "cycle"], name="escalation_run_once"
            )
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["fired_at"], name="escalation_run_pending", condition=models.Q(done_at=None)
            )
        ]
