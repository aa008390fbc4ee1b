"""The SLA as the desk shows it: each clock in words (the ticket page's
panel, a queue row's badge), how a clock was counted, and the SLA's entries
of the ticket's timeline. Registered with ``tickets.extensions`` from
``SloConfig.ready``; ``tickets`` knows none of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import formats, timezone

from servicedesk.models import Membership
from slo import selectors as sla_selectors
from slo.engine import PAUSED, Change, Segment
from slo.models import ClockState, Target
from slo.selectors import ClockView, Explanation
from tickets.extensions import EventLine, PanelRequest
from tickets.models import Status, Ticket, TicketEvent

# --- Clocks in words ------------------------------------------------------------------------


def business_duration(amount: timedelta, *, up: bool = False, short: bool = False) -> str:
    """``"2 h 10 min"``: business time in hours and minutes. Never days: a
    business day is a calendar's 8 hours or so, and "1 d" would read as 24.

    Whole minutes round down, or ``up`` for time left, so that time used
    and time left add up to the goal. ``short`` (a queue's badge) drops the
    minutes from 10 hours on."""
    seconds = abs(amount).total_seconds()
    minutes = int(-(-seconds // 60) if up else seconds // 60)
    if minutes == 0:
        return "< 1 min" if amount else "0 min"
    hours, minutes = divmod(minutes, 60)
    if short and hours >= 10:
        return f"{hours} h"
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(part for part in parts if part)


def local_moment(moment: datetime) -> str:
    """``"Tue 25 Nov 10:00 CET"`` in the active (the tenant's) time zone."""
    return formats.date_format(timezone.localtime(moment), "D j M H:i T")


STATE_LABELS: dict[str, str] = {
    ClockState.RUNNING: "Running",
    ClockState.PAUSED: "Paused",
    ClockState.MET: "Met",
    ClockState.BREACHED: "Breached",
    ClockState.CANCELLED: "Cancelled",
}


@dataclass(frozen=True)
class ClockLine:
    """One SLA clock in words: the ticket page's panel and a queue's badge."""

    view: ClockView
    state_label: str
    headline: str  # "2 h 10 min left", "overdue by 35 min", "met after 1 h 5 min"
    when: str  # "due Tue 25 Nov 10:00 CET"
    badge: str  # the queue's short form: "1 h 20 min", "overdue 10 min", "paused"
    title: str  # the badge's tooltip: which target, due when, under which policy
    goal: str
    bar: int  # percent of the goal used, capped at 100 for the progress bar
    usage: str  # "75 % used"

    @property
    def tone(self) -> str:
        return self.view.tone

    @property
    def target(self) -> str:
        return self.view.target


def _headline(view: ClockView) -> tuple[str, str]:
    """The panel's sentence and the badge's short form."""
    left, used = view.remaining, view.used
    if view.state == ClockState.RUNNING:
        return (
            f"{business_duration(left, up=True)} left",
            business_duration(left, up=True, short=True),
        )
    if view.state == ClockState.BREACHED:
        late, late_short = business_duration(-left), business_duration(-left, short=True)
        if view.stopped_at is not None:
            if left >= timedelta(0):  # stopped on the very instant it fell due
                return "breached at its due time", "missed"
            return f"breached by {late}", f"missed by {late_short}"
        return f"overdue by {late}", f"overdue {late_short}"
    if view.state == ClockState.PAUSED:
        if left < timedelta(0):
            return f"paused — overdue by {business_duration(-left)}", "paused"
        return f"paused — {business_duration(left, up=True)} left", "paused"
    if view.state == ClockState.MET:
        return f"met after {business_duration(used)}", "met"
    return f"cancelled after {business_duration(used)}", "cancelled"


def _when(view: ClockView) -> str:
    if view.stopped_at is not None:
        done = STATE_LABELS.get(view.state, view.state).lower()
        if view.state == ClockState.BREACHED and view.due_at is not None:
            return f"was due {local_moment(view.due_at)}, stopped {local_moment(view.stopped_at)}"
        return f"{done} {local_moment(view.stopped_at)}"
    if view.state == ClockState.PAUSED:
        if view.breached_at is not None:
            return f"was due {local_moment(view.breached_at)}; paused"
        return "no due time while paused"
    if view.due_at is None:
        return ""
    was = "was due" if view.state == ClockState.BREACHED else "due"
    return f"{was} {local_moment(view.due_at)}"


def clock_line(view: ClockView) -> ClockLine:
    headline, badge = _headline(view)
    when = _when(view)
    under = f" ({view.policy_name})" if view.policy_name else ""
    return ClockLine(
        view=view,
        state_label=STATE_LABELS.get(view.state, view.state),
        headline=headline,
        when=when,
        badge=badge,
        title=f"{view.label}: {headline}" + (f", {when}" if when else "") + under,
        goal=business_duration(view.goal),
        bar=min(100, view.percent_used),
        # Long past its goal, a percentage says nothing the headline does not.
        usage=f"{view.percent_used} % used" if view.percent_used <= 999 else "over 999 % used",
    )


def sla_badge(views: Iterable[ClockView]) -> ClockLine | None:
    """The queue's SLA badge: the most urgent clock still going, if any. A
    clock that stopped after its breach keeps the state "breached", but
    nothing about it can be done any more: it is not a candidate."""
    urgent = sla_selectors.most_urgent(v for v in views if v.stopped_at is None)
    return clock_line(urgent) if urgent is not None else None


CHANGE_LABELS = {
    "started": "Started",
    "paused": "Paused",
    "resumed": "Resumed",
    "warning": "Warning threshold reached",
    "breached": "Breached",
    "met": "Met",
    "cancelled": "Cancelled",
    "retargeted": "Re-targeted",
}


@dataclass(frozen=True)
class SegmentLine:
    """A running or paused stretch of a clock."""

    kind: str
    start: datetime
    end: datetime
    is_open: bool
    counted: str
    policy: str


@dataclass(frozen=True)
class ChangeLine:
    """Something that happened to a clock: started, paused, breached…"""

    at: datetime
    what: str
    detail: str
    tone: str


@dataclass(frozen=True)
class ExplanationLines:
    """How one clock came to be where it is, in words."""

    target: str
    label: str
    reason: str  # "Goal 8 h on “Berlin office” · 3 h used · 5 h left → due Tue 10:00"
    segments: list[SegmentLine]
    changes: list[ChangeLine]
    paused: str


def _segment_line(segment: Segment) -> SegmentLine:
    return SegmentLine(
        kind=segment.kind,
        start=segment.start,
        end=segment.end,
        is_open=segment.is_open,
        counted="" if segment.kind == PAUSED else business_duration(segment.counted),
        policy=segment.policy,
    )


def _change_line(change: Change) -> ChangeLine:
    detail = change.detail
    if change.what == "paused" and detail in Status.values:
        detail = f"while {Status(detail).label.lower()}"
    tone = {"breached": "breached", "warning": "warning", "met": "ok", "paused": "paused"}
    return ChangeLine(
        at=change.at,
        what=CHANGE_LABELS.get(change.what, change.what),
        detail=detail,
        tone=tone.get(change.what, ""),
    )


def _reason(explanation: Explanation) -> str:
    """Why the clock is due when it is, or how it ended."""
    calendar = explanation.calendar_name
    where = "round the clock (24×7)" if calendar == "24×7" else f"on “{calendar}”"
    if explanation.goal is None:
        return "No goal: no policy set this target."
    parts = [f"Goal {business_duration(explanation.goal)} {where}"]
    used = explanation.used
    parts.append(f"{business_duration(used)} used")
    left = explanation.goal - used
    state = explanation.state
    if state == ClockState.MET:
        return " · ".join([*parts[:1], f"met after {business_duration(used)}"])
    if state == ClockState.CANCELLED:
        return " · ".join([*parts[:1], f"cancelled after {business_duration(used)}"])
    if left < timedelta(0) or state == ClockState.BREACHED:
        due = f" (due {local_moment(explanation.due_at)})" if explanation.due_at else ""
        ended = bool(explanation.changes) and explanation.changes[-1].what in ("met", "cancelled")
        late = "missed by" if ended else "overdue by"
        return " · ".join(parts) + f" → {late} {business_duration(-left)}{due}"
    parts.append(f"{business_duration(left, up=True)} left")
    if state == ClockState.PAUSED:
        return " · ".join(parts) + " → paused: no due time until it resumes"
    due = f" → due {local_moment(explanation.due_at)}" if explanation.due_at else ""
    return " · ".join(parts) + due


def explanation_lines(explanation: Explanation) -> ExplanationLines:
    return ExplanationLines(
        target=explanation.target,
        label=explanation.label,
        reason=_reason(explanation),
        segments=[_segment_line(s) for s in explanation.segments],
        changes=[_change_line(c) for c in explanation.changes],
        paused=business_duration(explanation.paused) if explanation.paused else "",
    )


# --- The timeline ---------------------------------------------------------------------------


_ISO_DUE = re.compile(r"due (\S+)")


def _readable_due(value: str) -> str:
    """``"running, due 2026-03-10T09:00:00+00:00"`` (a recomputation's
    record) with the instant in the tenant's zone."""

    def local(match: re.Match[str]) -> str:
        try:
            return f"due {local_moment(datetime.fromisoformat(match[1]))}"
        except ValueError:
            return match[0]

    return _ISO_DUE.sub(local, value)


def sla_event_line(event: TicketEvent) -> EventLine:
    """``"first response clock started"``: what the SLA did to a clock."""
    clock = str(Target(event.field).label).lower() if event.field in Target.values else event.field
    what, note = event.new_value, event.note
    tone = "sla-breached" if what == "breached" else "sla"
    if event.old_value:  # a recomputation: where the clock was and where it is now
        moved = f"{_readable_due(event.old_value)} → {_readable_due(what)}"
        return EventLine(f"recomputed the {clock} clock: {moved}", note=note, tone=tone)
    if what == "paused" and note in Status.values:
        note = f"while {Status(note).label.lower()}"
    return EventLine(f"{clock} clock {what}", note=note, tone=tone)


# --- What the desk's pages get ------------------------------------------------------------


def ticket_panel(request: PanelRequest) -> Mapping[str, Any]:
    """The ticket page's SLA panel: the clocks as stored (one query). Their
    explanation replays the log, so it is fetched only when opened
    (``slo:desk_ticket_sla``)."""
    views = sla_selectors.ticket_clocks(ticket=request.ticket, now=request.now)
    return {"lines": [clock_line(v) for v in views]}


def queue_badges(
    membership: Membership, tickets: Sequence[Ticket], now: datetime
) -> dict[int, ClockLine | None]:
    """The queue's SLA column: every clock of the page in one query, the
    most urgent of each ticket shown."""
    clocks = sla_selectors.clocks_by_ticket(
        tenant=membership.tenant_id, ticket_ids=[t.pk for t in tickets], now=now
    )
    return {ticket.pk: sla_badge(clocks.get(ticket.pk, ())) for ticket in tickets}
