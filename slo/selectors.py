"""SLA reads: the clocks of a ticket (and of a page of tickets), how a clock
came to be where it is, the "breaching soon" condition, calendars and
policies of a tenant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from servicedesk.models import Membership
from servicedesk.tenancy import TenantOwned
from slo import engine
from slo.business_time import ALWAYS_OPEN, BusinessCalendar
from slo.models import (
    COUNTING,
    Calendar,
    Clock,
    ClockState,
    Escalation,
    Policy,
    Target,
)
from slo.rules import calendar_schedule, ticket_sla_inputs
from tickets.models import Ticket

M = TypeVar("M", bound=TenantOwned)

# "Breaching soon": counting clocks due within this much wall-clock time
# (and the ones already breached, which are the most urgent of all).
BREACHING_SOON = timedelta(hours=4)
TARGET_ORDER = {target: index for index, target in enumerate(engine.TARGETS)}


def _tenant_id(tenant: object) -> int:
    return tenant if isinstance(tenant, int) else tenant.pk  # type: ignore[attr-defined]


def calendar_list(*, tenant: object) -> QuerySet[Calendar]:
    return Calendar.objects.for_tenant(_tenant_id(tenant)).order_by("name")


def get_calendar(*, tenant: object, calendar_id: object) -> Calendar:
    """One calendar of the tenant; 404 for another tenant's or none."""
    return _get(calendar_list(tenant=tenant), calendar_id)


def policy_list(*, tenant: object) -> QuerySet[Policy]:
    """Policies in evaluation order, with what their pages show."""
    return (
        Policy.objects.for_tenant(_tenant_id(tenant))
        .select_related("calendar", "team", "category", "tag")
        .prefetch_related(
            Prefetch(
                "escalations",
                queryset=Escalation.objects.for_tenant(_tenant_id(tenant))
                .select_related("team")
                .prefetch_related("users")
                .order_by("pk"),
            )
        )
        .order_by("position", "pk")
    )


def get_policy(*, tenant: object, policy_id: object) -> Policy:
    return _get(policy_list(tenant=tenant), policy_id)


def get_escalation(*, tenant: object, escalation_id: object) -> Escalation:
    return _get(
        Escalation.objects.for_tenant(_tenant_id(tenant)).select_related("policy"), escalation_id
    )


def _get(queryset: QuerySet[M], pk: object) -> M:
    try:
        return queryset.get(pk=int(str(pk)))
    except (ValueError, TypeError, queryset.model.DoesNotExist) as error:
        raise Http404("No such item.") from error


# --- Clocks of tickets --------------------------------------------------------------------


@dataclass(frozen=True)
class ClockView:
    """A clock as a person reads it, as of ``now``."""

    clock: Clock
    target: str
    label: str
    state: str
    goal: timedelta
    used: timedelta
    remaining: timedelta  # business time left; negative once breached
    due_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    stopped_at: datetime | None
    paused_total: timedelta
    policy_name: str
    calendar_name: str

    @property
    def remaining_business_seconds(self) -> int:
        return int(self.remaining.total_seconds())

    @property
    def percent_used(self) -> int:
        if not self.goal:
            return 100
        return max(0, round(100 * self.used / self.goal))

    @property
    def is_counting(self) -> bool:
        return self.clock.running_since is not None

    @property
    def is_warning(self) -> bool:
        return self.state == ClockState.RUNNING and self.warned_at is not None

    @property
    def tone(self) -> str:
        """How urgent it looks: ok, warning, breached, paused or done."""
        if self.state == ClockState.BREACHED:
            return "breached"
        if self.state == ClockState.PAUSED:
            return "paused"
        if self.state in (ClockState.MET, ClockState.CANCELLED):
            return "done"
        return "warning" if self.warned_at is not None else "ok"


def clock_schedule(clock: Clock) -> BusinessCalendar:
    if clock.policy is None:
        return ALWAYS_OPEN
    return calendar_schedule(clock.policy.calendar)


def clock_view(clock: Clock, now: datetime) -> ClockView:
    """Time used and left as of ``now``; a counting clock counts on its
    policy's calendar, and one that should have breached by now shows
    breached even before the sweeper marks it."""
    used = clock.used
    if clock.running_since is not None:
        record = engine.ClockRecord(
            target=clock.target,
            policy_id=clock.policy_id,
            goal=clock.goal,
            started_at=clock.started_at,
            used=clock.used,
            running_since=clock.running_since,
        )
        used = record.used_at(clock_schedule(clock), now)
    state = clock.state
    breached_at = clock.breached_at
    if state == ClockState.RUNNING and clock.due_at is not None and clock.due_at <= now:
        state, breached_at = ClockState.BREACHED, clock.due_at
    warned_at = clock.warned_at
    if warned_at is None and clock.warn_at is not None and clock.warn_at <= now:
        warned_at = clock.warn_at
    policy = clock.policy
    return ClockView(
        clock=clock,
        target=clock.target,
        label=Target(clock.target).label,
        state=state,
        goal=clock.goal,
        used=used,
        remaining=clock.goal - used,
        due_at=clock.due_at,
        warned_at=warned_at if state not in (ClockState.MET, ClockState.CANCELLED) else None,
        breached_at=breached_at,
        stopped_at=clock.stopped_at,
        paused_total=clock.paused_total,
        policy_name=policy.name if policy else "",
        calendar_name=(policy.calendar.name if policy and policy.calendar else "24×7"),
    )


def _clocks(tenant_id: int) -> QuerySet[Clock]:
    return Clock.objects.for_tenant(tenant_id).select_related("policy__calendar")


def ticket_clocks(*, ticket: Ticket, now: datetime | None = None) -> list[ClockView]:
    """The ticket's clocks in target order (one query)."""
    now = now or timezone.now()
    clocks = _clocks(ticket.tenant_id).filter(ticket_id=ticket.pk)
    return sorted(
        (clock_view(clock, now) for clock in clocks), key=lambda v: TARGET_ORDER[v.target]
    )


def clocks_by_ticket(
    *, tenant: object, ticket_ids: Iterable[int], now: datetime | None = None
) -> dict[int, list[ClockView]]:
    """The clocks of a page of tickets (one query), for an SLA column."""
    now = now or timezone.now()
    ids = list(ticket_ids)
    found: dict[int, list[ClockView]] = defaultdict(list)
    if not ids:
        return found
    for clock in _clocks(_tenant_id(tenant)).filter(ticket_id__in=ids):
        found[clock.ticket_id].append(clock_view(clock, now))
    for views in found.values():
        views.sort(key=lambda v: TARGET_ORDER[v.target])
    return found


def most_urgent(views: Iterable[ClockView]) -> ClockView | None:
    """The clock a queue's SLA badge shows: breached first, then the
    counting one with the least time left, then paused; none when all are
    done."""
    live = [v for v in views if v.stopped_at is None]
    if not live:
        return None
    rank = {"breached": 0, "warning": 1, "ok": 2, "paused": 3}
    return min(live, key=lambda v: (rank[v.tone], v.remaining))


def breaching_soon_ids(
    *, tenant: object, now: datetime | None = None, within: timedelta = BREACHING_SOON
) -> QuerySet[Clock]:
    """Ticket ids of the counting clocks due within ``within`` (reads the
    partial index of counting clocks by due time)."""
    now = now or timezone.now()
    return (
        Clock.objects.for_tenant(_tenant_id(tenant))
        .filter(COUNTING, due_at__lte=now + within)
        .values("ticket_id")
    )


# The SLA due time of a ticket, as the queue sorts by it: its soonest
# counting clock (running or breached, and not stopped; a paused clock has
# no due time). Tickets without one sort last.
SLA_DUE = "sla_due"


def with_sla_due(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate ``sla_due`` (one lookup per ticket on the clocks' unique
    (tenant, ticket, target) index)."""
    soonest = (
        Clock.objects.filter(
            COUNTING,
            tenant=OuterRef("tenant"),
            ticket=OuterRef("pk"),
            due_at__isnull=False,
        )
        .order_by("due_at")
        .values("due_at")[:1]
    )
    return tickets.annotate(**{SLA_DUE: Subquery(soonest)})


# --- Explaining a clock ---------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    """How one clock came to be where it is: its running and paused
    stretches and what happened to it, replayed from the ticket's log."""

    target: str
    label: str
    segments: list[engine.Segment]
    changes: list[engine.Change]
    policy_name: str
    calendar_name: str
    goal: timedelta | None
    used: timedelta
    due_at: datetime | None
    state: str

    @property
    def remaining(self) -> timedelta | None:
        return None if self.goal is None else self.goal - self.used

    @property
    def paused(self) -> timedelta:
        return sum((s.end - s.start for s in self.segments if s.kind == engine.PAUSED), timedelta())


def ticket_clock_explanations(*, ticket: Ticket, now: datetime | None = None) -> list[Explanation]:
    """Replay the ticket's clocks with their stretches recorded (reads the
    log, the tenant's policies and a few lookups; writes nothing)."""
    now = now or timezone.now()
    inputs = ticket_sla_inputs(ticket)
    clocks = engine.Clocks(segments=[])
    changes = engine.fold(
        clocks, [(m.at, m.facts) for m in inputs.history], inputs.plan_for, until=now
    )
    names = {rule.plan.policy_id: rule.plan for rule in inputs.rules}
    calendars = dict(
        Calendar.objects.for_tenant(ticket.tenant_id)
        .filter(pk__in=[p.calendar_id for p in names.values() if p.calendar_id])
        .values_list("pk", "name")
    )
    explanations = []
    for target in engine.TARGETS:
        record = clocks.records.get(target)
        if record is None:
            continue
        plan = names.get(record.policy_id or 0)
        calendar = plan.calendar if plan is not None else ALWAYS_OPEN
        explanations.append(
            Explanation(
                target=target,
                label=Target(target).label,
                segments=[s for s in clocks.segments or [] if s.target == target],
                changes=[c for c in changes if c.target == target],
                policy_name=plan.name if plan else "",
                calendar_name=(
                    calendars.get(plan.calendar_id, "24×7") if plan and plan.calendar_id else "24×7"
                ),
                goal=record.goal,
                used=record.used_at(calendar, now) if record.is_active else record.used,
                due_at=record.due_at,
                state=record.state,
            )
        )
    return explanations


# --- The admin pages ---------------------------------------------------------------------


def calendar_overview(*, tenant: object) -> QuerySet[Calendar]:
    """Calendars by name with how many policies use each (one query)."""
    return calendar_list(tenant=tenant).annotate(policy_count=Count("policies"))


def policy_overview(*, tenant: object) -> QuerySet[Policy]:
    """Policies in evaluation order with what the list shows: the names of
    their calendar and conditions, and how many escalations each has (one
    query)."""
    return (
        Policy.objects.for_tenant(_tenant_id(tenant))
        .select_related("calendar", "team", "category", "tag")
        .annotate(escalation_count=Count("escalations"))
        .order_by("position", "pk")
    )


def calendar_policy_names(*, calendar: Calendar) -> list[str]:
    """The policies that use a calendar, in evaluation order."""
    return list(
        Policy.objects.for_tenant(calendar.tenant_id)
        .filter(calendar=calendar)
        .order_by("position", "pk")
        .values_list("name", flat=True)
    )


def requester_organisations(*, tenant: object) -> list[str]:
    """The organisations the tenant's members are in, for suggestions."""
    return list(
        Membership.objects.for_tenant(_tenant_id(tenant))
        .exclude(organisation="")
        .order_by("organisation")
        .values_list("organisation", flat=True)
        .distinct()
    )


# --- Escalations ----------------------------------------------------------------------------


def escalation_list(*, tenant: object, policy_id: int | None = None) -> QuerySet[Escalation]:
    """A tenant's escalations (of one policy, when given) with their policy,
    team and people: a fixed number of queries for any number of them."""
    escalations = (
        Escalation.objects.for_tenant(_tenant_id(tenant))
        .select_related("policy", "team")
        .prefetch_related("users")
        .order_by("pk")
    )
    if policy_id is not None:
        escalations = escalations.filter(policy_id=policy_id)
    return escalations


def get_escalation_detail(*, tenant: object, escalation_id: object) -> Escalation:
    """One escalation of the tenant with its policy, team and people; 404
    for another tenant's or none."""
    return _get(escalation_list(tenant=tenant), escalation_id)
