"""SLA clocks as a fold over a ticket's history. Pure: no database, no clock.

A ticket's history is a list of *facts* (status, priority, routing, whether
it has been answered…), one per event that changed them. Which policy
applies, and so which targets, goals and calendar, follows from the facts;
which clocks should be counting follows from the facts too:

- first response counts while the ticket is open and unanswered;
- next response counts while the ticket is open, answered once, and a
  requester's reply waits for an answer (each such wait is a new cycle);
- resolution counts while the ticket is open (a reopen resumes it).

Statuses of the policy's pause list pause the counting clocks. A clock that
should stop is *met* when its question was answered (a reply; a resolution),
*cancelled* when it was not (the ticket was withdrawn, no policy applies any
more), and *breached* either way once it passed its due time. Changing the
policy or the goal keeps the business time already used and the pauses
already taken.

Live maintenance (``slo.services``) folds each new event into the stored
clocks; replay folds the whole history into fresh ones. Both run this code,
which is why a replay under unchanged calendars and policies finds nothing
to move.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slo.business_time import (
    ZERO,
    BusinessCalendar,
    add_business_time,
    business_time_between,
)

FIRST_RESPONSE = "first_response"
NEXT_RESPONSE = "next_response"
RESOLUTION = "resolution"
TARGETS = (FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION)

RUNNING = "running"
PAUSED = "paused"
MET = "met"
BREACHED = "breached"
CANCELLED = "cancelled"

OPEN = frozenset({"new", "in_progress", "pending", "known_error"})
ANSWERED_BY_STATUS = frozenset({"resolved", "closed"})


@dataclass(frozen=True)
class TicketFacts:
    """What the clocks and the policy conditions read of a ticket at one
    moment of its history."""

    kind: str
    status: str
    priority: int
    team_id: int | None = None
    category_id: int | None = None
    tag_ids: frozenset[int] = frozenset()
    requester_organisation: str = ""
    requester_is_vip: bool = False
    responded: bool = False
    # When the oldest unanswered reply of the requester arrived.
    awaiting_since: datetime | None = None


@dataclass(frozen=True)
class Plan:
    """The targets one policy sets for a ticket."""

    policy_id: int
    goals: dict[str, timedelta]
    calendar: BusinessCalendar
    warning_percent: int = 80
    pause_statuses: frozenset[str] = frozenset({"pending"})
    calendar_id: int | None = None
    name: str = ""


@dataclass(frozen=True)
class Rule:
    """A policy's conditions; empty ones match anything."""

    plan: Plan
    kinds: frozenset[str] = frozenset()
    priorities: frozenset[int] = frozenset()
    team_id: int | None = None
    category_id: int | None = None
    tag_id: int | None = None
    requester_organisation: str = ""
    vip_only: bool = False

    def matches(self, facts: TicketFacts) -> bool:
        return (
            (not self.kinds or facts.kind in self.kinds)
            and (not self.priorities or facts.priority in self.priorities)
            and (self.team_id is None or facts.team_id == self.team_id)
            and (self.category_id is None or facts.category_id == self.category_id)
            and (self.tag_id is None or self.tag_id in facts.tag_ids)
            and (
                not self.requester_organisation
                or facts.requester_organisation.casefold() == self.requester_organisation.casefold()
            )
            and (not self.vip_only or facts.requester_is_vip)
        )


def choose_plan(rules: Sequence[Rule], facts: TicketFacts) -> Plan | None:
    """The plan of the first rule that matches (rules come in policy order)."""
    for rule in rules:
        if rule.matches(facts):
            return rule.plan
    return None


@dataclass
class ClockRecord:
    """The state of one clock; mirrors ``slo.models.Clock``."""

    target: str
    policy_id: int | None
    goal: timedelta
    started_at: datetime
    state: str = RUNNING
    cycle: int = 1
    used: timedelta = ZERO
    running_since: datetime | None = None
    paused_at: datetime | None = None
    paused_total: timedelta = ZERO
    warn_at: datetime | None = None
    due_at: datetime | None = None
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    stopped_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.stopped_at is None

    def used_at(self, calendar: BusinessCalendar, at: datetime) -> timedelta:
        """Business time used up to ``at``."""
        if self.running_since is None:
            return self.used
        return self.used + business_time_between(calendar, self.running_since, at)

    def remaining_at(self, calendar: BusinessCalendar, at: datetime) -> timedelta:
        return self.goal - self.used_at(calendar, at)


# The fields the fold decides; the rest of a stored clock is bookkeeping.
CLOCK_FIELDS = tuple(f for f in ClockRecord.__dataclass_fields__)


@dataclass(frozen=True)
class Change:
    """Something that happened to a clock, for the ticket's audit trail."""

    target: str
    what: str  # started, paused, resumed, warning, breached, met, cancelled, retargeted
    at: datetime
    detail: str = ""


@dataclass(frozen=True)
class Segment:
    """A stretch of a clock's life: running (and the business time it
    counted) or paused; for explaining a clock, not stored."""

    target: str
    kind: str  # running or paused
    start: datetime
    end: datetime
    counted: timedelta
    policy: str = ""
    is_open: bool = False


@dataclass
class Clocks:
    """The clocks of one ticket, and the plan they were last counted under.
    ``segments``, when a list, collects the clocks' running and paused
    stretches as they are folded."""

    records: dict[str, ClockRecord] = field(default_factory=dict)
    plan: Plan | None = None
    segments: list[Segment] | None = None


def advance(clocks: Clocks, at: datetime) -> list[Change]:
    """Mark the warnings and breaches that happened by ``at``. They are
    marked at the instant they happened, not when someone looked."""
    changes = []
    for record in clocks.records.values():
        if record.running_since is None:
            continue
        if record.warned_at is None and record.warn_at is not None and record.warn_at <= at:
            record.warned_at = record.warn_at
            changes.append(Change(record.target, "warning", record.warn_at))
        if record.breached_at is None and record.due_at is not None and record.due_at <= at:
            record.breached_at = record.due_at
            record.state = BREACHED
            changes.append(Change(record.target, "breached", record.due_at))
    return changes


def _wanted(target: str, facts: TicketFacts, plan: Plan | None) -> bool:
    if plan is None or target not in plan.goals or facts.status not in OPEN:
        return False
    if target == FIRST_RESPONSE:
        return not facts.responded
    if target == NEXT_RESPONSE:
        return facts.responded and facts.awaiting_since is not None
    return True


def _answered(target: str, facts: TicketFacts) -> bool:
    if facts.status in ANSWERED_BY_STATUS:
        return True
    if target == FIRST_RESPONSE:
        return facts.responded
    if target == NEXT_RESPONSE:
        return facts.awaiting_since is None
    return False


def _close_segment(
    clocks: Clocks,
    record: ClockRecord,
    calendar: BusinessCalendar | None,
    at: datetime,
    policy: str = "",
) -> None:
    if record.running_since is not None:
        counted = ZERO
        if calendar is not None:
            counted = business_time_between(calendar, record.running_since, at)
            record.used += counted
        if clocks.segments is not None and at > record.running_since:
            clocks.segments.append(
                Segment(record.target, RUNNING, record.running_since, at, counted, policy)
            )
        record.running_since = None
    if record.paused_at is not None:
        if clocks.segments is not None and at > record.paused_at:
            clocks.segments.append(
                Segment(record.target, PAUSED, record.paused_at, at, ZERO, policy)
            )
        record.paused_total += max(at - record.paused_at, ZERO)
        record.paused_at = None


def due_times(
    plan: Plan, goal: timedelta, at: datetime, used: timedelta = ZERO
) -> tuple[datetime, datetime]:
    """(warning, due) of a clock of ``goal`` under ``plan`` counting from
    ``at`` with ``used`` already spent: what a running clock projects, and
    what the admin's preview shows."""
    threshold = goal * plan.warning_percent / 100
    threshold = timedelta(seconds=round(threshold.total_seconds()))
    return (
        add_business_time(plan.calendar, at, max(threshold - used, ZERO)),
        add_business_time(plan.calendar, at, max(goal - used, ZERO)),
    )


def _project(record: ClockRecord, plan: Plan, at: datetime) -> None:
    """Due and warning instants of a running clock from ``at`` on."""
    warn_at, due_at = due_times(plan, record.goal, at, record.used)
    if record.warned_at is None:
        record.warn_at = warn_at
    if record.breached_at is None:
        record.due_at = due_at


def _state(record: ClockRecord) -> str:
    if record.paused_at is not None:
        return PAUSED
    return BREACHED if record.breached_at is not None else RUNNING


def reconcile(clocks: Clocks, facts: TicketFacts, plan: Plan | None, at: datetime) -> list[Change]:
    """Bring the clocks in line with ``facts`` at ``at``: start, stop, pause,
    resume and re-target what the facts and the plan call for."""
    changes: list[Change] = []
    before = clocks.plan
    # The running segments so far were counted on the calendar in force.
    counted_on = before.calendar if before is not None else None
    before_name = before.name if before is not None else ""
    for target in TARGETS:
        record = clocks.records.get(target)
        wanted = _wanted(target, facts, plan)
        if record is not None and record.is_active and not wanted:
            _close_segment(clocks, record, counted_on, at, before_name)
            record.stopped_at = at
            outcome = MET if _answered(target, facts) else CANCELLED
            record.state = BREACHED if record.breached_at is not None else outcome
            late = " after its due time" if record.breached_at is not None else ""
            changes.append(Change(target, outcome, at, late.strip()))
            continue
        if not wanted or plan is None:
            continue
        goal = plan.goals[target]
        moved = False  # does the clock need new due and warning instants?
        if record is None or (
            target == NEXT_RESPONSE
            and not record.is_active
            and record.started_at != facts.awaiting_since
        ):
            started = (facts.awaiting_since if target == NEXT_RESPONSE else None) or at
            record = ClockRecord(
                target=target,
                policy_id=plan.policy_id,
                goal=goal,
                started_at=started,
                cycle=1 if record is None else record.cycle + 1,
                running_since=at,
            )
            clocks.records[target] = record
            changes.append(Change(target, "started", at, _goal_text(plan, goal)))
            moved = True
        elif not record.is_active:
            # Reopened, or a policy applies again: carry on from the time used.
            old_goal = record.goal
            record.stopped_at = None
            record.running_since = at
            record.policy_id, record.goal = plan.policy_id, goal
            _lift(record, plan)
            detail = (
                "" if old_goal == goal else f"{_duration_text(old_goal)} → {_goal_text(plan, goal)}"
            )
            changes.append(Change(target, "resumed", at, detail))
            moved = True
        elif (
            before is None
            or record.policy_id != plan.policy_id
            or record.goal != goal
            or before.calendar != plan.calendar
            or before.warning_percent != plan.warning_percent
        ):
            # New policy or goal: keep the time used and the pauses taken.
            if record.running_since is not None:
                _close_segment(clocks, record, counted_on or plan.calendar, at, before_name)
                record.running_since = at
                moved = True
            old_goal = record.goal
            record.policy_id, record.goal = plan.policy_id, goal
            _lift(record, plan)
            changes.append(
                Change(
                    target,
                    "retargeted",
                    at,
                    f"{_duration_text(old_goal)} → {_goal_text(plan, goal)}",
                )
            )
        # Pause or resume by status.
        if facts.status in plan.pause_statuses:
            if record.running_since is not None:
                _close_segment(
                    clocks, record, counted_on if not moved else plan.calendar, at, before_name
                )
                record.paused_at = at
                if record.warned_at is None:
                    record.warn_at = None
                if record.breached_at is None:
                    record.due_at = None
                moved = False
                changes.append(Change(target, "paused", at, facts.status))
        elif record.paused_at is not None:
            _close_segment(clocks, record, None, at, plan.name)
            record.running_since = at
            moved = True
            changes.append(Change(target, "resumed", at))
        if moved:
            _project(record, plan, at)
        record.state = _state(record)
    clocks.plan = plan
    return changes


def _lift(record: ClockRecord, plan: Plan) -> None:
    """A longer goal lifts a breach or a warning not yet deserved (the audit
    trail keeps that they happened)."""
    if record.breached_at is not None and record.used < record.goal:
        record.breached_at = None
        record.due_at = None
    threshold = record.goal * plan.warning_percent / 100
    if record.warned_at is not None and record.used < threshold:
        record.warned_at = None
        record.warn_at = None


def fold(
    clocks: Clocks,
    history: Iterable[tuple[datetime, TicketFacts]],
    plan_for: Callable[[TicketFacts], Plan | None],
    until: datetime | None = None,
) -> list[Change]:
    """Apply each moment of ``history`` (in order) to ``clocks``; then mark
    what passed by ``until``."""
    changes: list[Change] = []
    for at, facts in _last_per_instant(history):
        changes += advance(clocks, at)
        changes += reconcile(clocks, facts, plan_for(facts), at)
    if until is not None:
        changes += advance(clocks, until)
        _open_segments(clocks, until)
    return changes


def _open_segments(clocks: Clocks, until: datetime) -> None:
    """The stretches still going at ``until``."""
    plan = clocks.plan
    if clocks.segments is None:
        return
    name = plan.name if plan is not None else ""
    for record in clocks.records.values():
        if record.running_since is not None and until > record.running_since:
            counted = (
                business_time_between(plan.calendar, record.running_since, until)
                if plan is not None
                else ZERO
            )
            clocks.segments.append(
                Segment(record.target, RUNNING, record.running_since, until, counted, name, True)
            )
        if record.paused_at is not None and until > record.paused_at:
            clocks.segments.append(
                Segment(record.target, PAUSED, record.paused_at, until, ZERO, name, True)
            )


def _last_per_instant(
    history: Iterable[tuple[datetime, TicketFacts]],
) -> list[tuple[datetime, TicketFacts]]:
    """One moment per instant: no time passes between the events a single
    change records (a reply and the status move it causes), so only where
    they lead counts."""
    moments: list[tuple[datetime, TicketFacts]] = []
    for at, facts in history:
        if moments and moments[-1][0] == at:
            moments[-1] = (at, facts)
        else:
            moments.append((at, facts))
    return moments


def _duration_text(goal: timedelta) -> str:
    """Business durations in hours and minutes: "40 h" is a business week
    of 8-hour days, where "1 d 16 h" would read as calendar time."""
    hours, minutes = divmod(int(goal.total_seconds() // 60), 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p) or "0 min"


def _goal_text(plan: Plan, goal: timedelta) -> str:
    return f"{_duration_text(goal)} ({plan.name})" if plan.name else _duration_text(goal)
