"""How a tenant's ninety days happen: each ticket planned, then every step
of every ticket played in time order through the ticket services.

``Story.plan`` decides every ticket up front -- what it is about (drawn from
``corpus``), who files and works it (``cast``), how far it got, when each
step happens (in working hours, mostly) -- and queues its steps; ``play``
then pops them in time order, so numbers follow creation and a merge or a
link finds its tickets as they were at that moment. Every step is a ticket
service call with ``now=`` set to its moment, so the events, first responses
and reopen windows are the services' own; nothing is written past them.

All chance comes from one ``random.Random`` seeded with the tenant's slug:
the same tenant gets the same story every time.
"""

from __future__ import annotations

import bisect
import heapq
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile

from servicedesk.models import Membership, Role, Team, Tenant
from tickets import services
from tickets.demo import HISTORY_DAYS
from tickets.demo.cast import ASSIGN_WEIGHT, Cast, first_name
from tickets.demo.corpus import (
    ACKNOWLEDGEMENTS,
    AFTER_REOPEN,
    AGENT_CANCELS,
    CATEGORIES,
    CHANGES,
    DUPLICATE_REPORTS,
    ESCALATION_NOTES,
    FLAVOURS,
    NEW_STARTERS,
    OVERRIDE_REASONS,
    PENDING_NOTES,
    PROBLEMS,
    REOPEN_REPLIES,
    REQUESTER_CANCELS,
    REQUESTER_NUDGES,
    SCENARIOS,
    SECOND_QUESTIONS,
    SECURITY_INCIDENTS,
    SERVER_ROLES,
    SERVICE_DESK,
    SHARES,
    ChangeScenario,
    Flavour,
    ProblemScenario,
    Scenario,
)
from tickets.models import (
    Category,
    Level,
    Priority,
    ResolutionCode,
    Source,
    Status,
    Ticket,
    TicketKind,
)
from tickets.selectors import ticket_settings
from tickets.services import Actor

T = TypeVar("T")


def planned(value: T | None) -> T:
    """A part of a plan that planning has set: missing, it is a bug here."""
    if value is None:
        raise RuntimeError("incomplete demo plan")
    return value


def fill(text: str, values: dict[str, str]) -> str:
    """Replace ``{name}`` placeholders; braces of anything else stay as they are."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


# --- Clocks -------------------------------------------------------------------------------------


class WorkingHours:
    """Working minutes (weekdays, 8:00 to 18:00 in the tenant's zone) counted
    from a first day. Steps spread on this clock happen while the desk is
    staffed: nobody answers a ticket at 3 a.m. on a Sunday."""

    OPENS = 8 * 60
    DAY = 10 * 60

    def __init__(self, zone: ZoneInfo, first_day: date, days: int) -> None:
        self.zone = zone
        self.first_day = first_day
        self.before = [0]  # working minutes before each day
        for index in range(days):
            weekday = (first_day + timedelta(days=index)).weekday()
            self.before.append(self.before[-1] + (self.DAY if weekday < 5 else 0))

    def minutes(self, moment: datetime) -> float:
        local = moment.astimezone(self.zone)
        index = min(max((local.date() - self.first_day).days, 0), len(self.before) - 2)
        if local.weekday() >= 5:
            return self.before[index]
        since_opening = local.hour * 60 + local.minute + local.second / 60 - self.OPENS
        return self.before[index] + min(max(since_opening, 0), self.DAY)

    def moment(self, minutes: float) -> datetime:
        """The earliest moment at which ``minutes`` of work have passed."""
        index = min(max(bisect.bisect_left(self.before, minutes) - 1, 0), len(self.before) - 2)
        day = self.first_day + timedelta(days=index)
        into = min(max(minutes - self.before[index], 0), self.DAY)
        opening = datetime.combine(day, time(), tzinfo=self.zone) + timedelta(minutes=self.OPENS)
        return (opening + timedelta(minutes=into)).astimezone(UTC)


class WallClock:
    """Plain minutes since the epoch: the clock of whoever is on call."""

    def __init__(self, zone: tzinfo | None) -> None:
        self.zone = zone or UTC

    def moment(self, minutes: float) -> datetime:
        return datetime.fromtimestamp(minutes * 60, tz=self.zone)


# --- The story --------------------------------------------------------------------------------

STEP = timedelta(minutes=2)
Action = Callable[[datetime], object]


@dataclass(eq=False)  # plans are told apart by identity
class Plan:
    """One ticket to be: what it is about, who asks, when, and where it ends up."""

    kind: str
    created_at: datetime
    status: str = ""
    scenario: Scenario | None = None
    problem: ProblemScenario | None = None
    change: ChangeScenario | None = None
    requester: Membership | None = None
    source: str = Source.PORTAL
    confidential: bool = False
    merge_target: bool = False
    untouched: bool = False  # nobody at the desk has looked at it yet
    values: dict[str, str] = field(default_factory=dict)
    ticket: Ticket | None = None
    # For problems: when work started and when it was resolved, as planned.
    started_at: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def tags(self) -> tuple[str, ...]:
        if self.scenario is not None:
            return self.scenario.tags
        if self.problem is not None:
            return (self.problem.topic,)
        if self.change is not None:
            return (self.change.topic,)
        return ()


class Story:
    """Plans a tenant's ninety days, then plays every step in time order."""

    def __init__(self, tenant: Tenant, cast: Cast, *, count: int, now: datetime) -> None:
        self.tenant = tenant
        self.cast = cast
        self.count = count
        self.now = now
        # Nothing happens in the last minutes: "now" belongs to whoever opens the desk.
        self.limit = now - timedelta(minutes=2)
        self.rng = random.Random(f"servicedesk-demo:{tenant.slug}")  # noqa: S311 - not security
        self.zone = ZoneInfo(tenant.timezone or "UTC")
        first_day = (now - timedelta(days=HISTORY_DAYS + 5)).astimezone(self.zone).date()
        self.clock = WorkingHours(self.zone, first_day, HISTORY_DAYS + 40)
        self.flavour = FLAVOURS.get(tenant.slug) or Flavour(
            tenant.slug[:3].upper(), ("Head office", "Branch office")
        )
        self.settings = ticket_settings(tenant)
        self.window = timedelta(days=self.settings.reopen_window_days)
        self.categories: dict[str, Category] = {}
        self.plans: list[Plan] = []
        self._queue: list[tuple[datetime, int, Action]] = []
        self._sequence = 0

    # --- Playing ------------------------------------------------------------------------------

    def at(self, when: datetime, action: Action) -> None:
        heapq.heappush(self._queue, (min(when, self.limit), self._sequence, action))
        self._sequence += 1

    def play(self) -> None:
        """Every step of every ticket in time order, so numbers follow creation
        and a merge or link finds its tickets as they were at that moment."""
        while self._queue:
            when, _, action = heapq.heappop(self._queue)
            action(when)

    # --- Casting ----------------------------------------------------------------------------

    def ensure_categories(self) -> None:
        existing = {c.name: c for c in Category.objects.for_tenant(self.tenant)}
        admins = [m for m in self.cast.staff if m.role == Role.ADMIN]
        if admins:
            actor = Actor.of(admins[0])
            for name in CATEGORIES:
                if name not in existing:
                    existing[name] = services.category_create(actor=actor, name=name)
        self.categories = existing

    def pick_agent(self, team: Team | None, *, not_: Membership | None = None) -> Membership:
        members = [m for m in self.cast.staff_of(team) if m != not_] or self.cast.staff
        weights = [ASSIGN_WEIGHT.get(m.role, 1.0) for m in members]
        return self.rng.choices(members, weights)[0]

    def pick_requester(self, *, not_: Membership | None = None) -> Membership:
        members = [m for m in self.cast.requesters if m != not_] or self.cast.requesters
        return self.rng.choice(members)

    def lead_of(self, team: Team | None) -> Membership | None:
        leads = [m for m in self.cast.staff_of(team) if m in self.cast.leads]
        found = leads or self.cast.leads
        return found[0] if found else None

    # --- Time ---------------------------------------------------------------------------------

    def business_moment(
        self, oldest: timedelta, newest: timedelta, *, recent_bias: float = 1.0
    ) -> datetime:
        """A moment between ``oldest`` and ``newest`` ago, on a working day
        between 7:00 and 19:00 in the tenant's zone (mostly). A ``recent_bias``
        above 1 favours recent moments: a demo desk needs work in its queues."""
        for _ in range(50):
            moment = self.now - newest - (oldest - newest) * self.rng.random() ** recent_bias
            local = moment.astimezone(self.zone)
            if local.weekday() >= 5 and self.rng.random() < 0.85:
                continue
            hour = self.rng.choices(range(7, 19), [1, 3, 4, 4, 3, 2, 3, 4, 3, 3, 2, 1])[0]
            if self.rng.random() < 0.05:
                hour = self.rng.choice((6, 19, 20, 21, 22))
            local = local.replace(hour=hour, minute=self.rng.randrange(60), second=0)
            candidate = local.astimezone(self.now.tzinfo)
            if self.now - oldest <= candidate <= self.now - newest:
                return candidate
        return self.now - newest

    def spread(self, start: datetime, end: datetime, count: int) -> list[datetime]:
        """``count`` moments after ``start``, the last at ``end``, at least
        ``STEP`` apart: the first soon after ``start`` (a desk answers
        quickly), the rest leaning early, all in working hours when they fit."""
        if count <= 0:
            return []
        clock: WorkingHours | WallClock = self.clock
        begin, finish = self.clock.minutes(start), self.clock.minutes(end)
        if finish - begin < count * 10:  # an evening's ticket: whoever is on call
            begin, finish = start.timestamp() / 60, end.timestamp() / 60
            clock = WallClock(start.tzinfo)
        first = begin + min(self.rng.expovariate(1 / 40) + 2, max((finish - begin) * 0.3, 2))
        cuts: list[datetime] = []
        if count > 1:
            cuts.append(clock.moment(first))
            cuts += [
                clock.moment(first + (finish - first) * self.rng.uniform(0.05, 0.95) ** 1.5)
                for _ in range(count - 2)
            ]
            cuts.sort()
        cuts.append(end)
        moments, previous = [], start
        for moment in cuts:
            moment = max(moment, previous + STEP)
            moments.append(moment)
            previous = moment
        return moments

    def at_work(self, moment: datetime, *, not_before: datetime) -> datetime:
        """``moment``, or if the desk was closed then, a while before closing
        time -- unless that is before ``not_before``."""
        minutes = self.clock.minutes(moment)
        earlier = self.clock.moment(minutes)
        if earlier < moment - STEP:
            earlier = self.clock.moment(minutes - self.rng.uniform(5, 150))
        return earlier if not_before <= earlier <= moment else moment

    def work_after(self, start: datetime, minutes: float, *, by: datetime) -> datetime:
        """``minutes`` of working time after ``start``, but no later than ``by``."""
        later = self.clock.moment(self.clock.minutes(start) + minutes)
        return min(max(later, start + STEP), max(by, start + STEP))

    def duration(self, kind: str) -> float:
        """How many working minutes a ticket of ``kind`` typically takes to resolve."""
        median_hours = {TicketKind.INCIDENT.value: 4, TicketKind.REQUEST.value: 16}.get(kind, 30)
        hours = self.rng.lognormvariate(0, 1.0) * median_hours
        return min(max(hours, 0.7), 80) * 60

    def status_for_age(self, age: timedelta) -> str:
        S = Status
        days = age / timedelta(days=1)
        if days < 0.3:
            table = {S.NEW: 55, S.IN_PROGRESS: 30, S.PENDING: 5, S.RESOLVED: 5, S.CANCELLED: 5}
        elif days < 3:
            table = {
                S.NEW: 28,
                S.IN_PROGRESS: 32,
                S.PENDING: 14,
                S.RESOLVED: 20,
                S.CANCELLED: 3,
                S.CLOSED: 3,
            }
        elif days < self.window.days:
            table = {
                S.NEW: 3,
                S.IN_PROGRESS: 20,
                S.PENDING: 15,
                S.RESOLVED: 40,
                S.CLOSED: 17,
                S.CANCELLED: 5,
            }
        elif days < 30:
            table = {S.IN_PROGRESS: 8, S.PENDING: 6, S.RESOLVED: 6, S.CLOSED: 73, S.CANCELLED: 7}
        else:
            table = {S.IN_PROGRESS: 2, S.PENDING: 2, S.CLOSED: 89, S.CANCELLED: 7}
        return self.rng.choices(list(table), list(table.values()))[0]

    # --- Planning -----------------------------------------------------------------------------

    def plan(self) -> None:
        """Decide every ticket, then schedule its steps."""
        rng = self.rng
        extras = self.count >= 20
        problems = (
            rng.sample(PROBLEMS, min(len(PROBLEMS), max(1, round(self.count * 0.03))))
            if extras
            else []
        )
        problem_plans = [self.problem_plan(p, forced=i == 0) for i, p in enumerate(problems)]
        # A change fixes every problem that got as far as a known error.
        fixing = [
            p
            for p in problem_plans
            if p.status in (Status.KNOWN_ERROR, Status.RESOLVED, Status.CLOSED)
        ]
        own_changes = (
            rng.sample(CHANGES, min(len(CHANGES), round(self.count * 0.015))) if extras else []
        )
        security = (
            rng.sample(SECURITY_INCIDENTS, min(len(SECURITY_INCIDENTS), max(1, self.count // 100)))
            if extras
            else []
        )
        merges = max(1, round(self.count / 75)) if extras and len(self.cast.requesters) > 1 else 0
        talks = self.count - len(problem_plans) - len(fixing) - len(own_changes) - len(security)
        talks -= merges

        talk_plans = self.talk_plans(max(talks, 0), merges, problems[:1])
        security_plans = [self.security_plan(s) for s in security]
        for plan in sorted(talk_plans + security_plans, key=lambda p: p.created_at):
            self.schedule_talk(plan)
        for plan in [p for p in talk_plans if p.merge_target]:
            self.schedule_duplicate(plan)
        for plan in problem_plans:
            self.schedule_problem(plan, talk_plans)
        for plan in fixing:
            self.schedule_problem_change(plan)
        for change in own_changes:
            self.schedule_own_change(change, talk_plans)

    def talk_plans(
        self, count: int, merges: int, forced_topics: Sequence[ProblemScenario]
    ) -> list[Plan]:
        """Incidents and requests: when, what and how far they got."""
        rng = self.rng
        plans = []
        for _ in range(count):
            kind = TicketKind.INCIDENT if rng.random() < 0.58 else TicketKind.REQUEST
            created = self.business_moment(
                timedelta(days=HISTORY_DAYS), timedelta(minutes=20), recent_bias=1.8
            )
            plans.append(Plan(kind=kind, created_at=created))
        for plan in plans:
            plan.status = self.status_for_age(self.limit - plan.created_at)
        # Outages somebody else reports too: merged into these.
        old_enough = [p for p in plans if self.limit - p.created_at > timedelta(days=3)]
        outages = [s for s in SCENARIOS if s.outage]
        for plan in rng.sample(old_enough, min(merges, len(old_enough))):
            plan.kind = TicketKind.INCIDENT
            plan.merge_target = True
            plan.scenario = rng.choice(outages)
            if plan.status in (Status.NEW, Status.CANCELLED):
                plan.status = Status.IN_PROGRESS
        # Every status shows up, however few tickets.
        ages = {
            Status.NEW: (timedelta(hours=1), timedelta(hours=20)),
            Status.IN_PROGRESS: (timedelta(hours=6), timedelta(days=5)),
            Status.PENDING: (timedelta(days=1), timedelta(days=6)),
            Status.RESOLVED: (timedelta(days=1), timedelta(days=5)),
            Status.CLOSED: (timedelta(days=10), timedelta(days=60)),
            Status.CANCELLED: (timedelta(days=1), timedelta(days=30)),
        }
        free = [p for p in plans if not p.merge_target]
        for status, (young, old) in ages.items():
            if len(free) < 2 or any(p.status == status for p in plans):
                continue
            plan = free.pop(rng.randrange(len(free)))
            plan.status = status
            plan.created_at = self.business_moment(old, young)
        # At least one waits in the "Unassigned" queue.
        waiting = [p for p in plans if p.status == Status.NEW]
        if waiting:
            rng.choice(waiting).untouched = True
        # What they are about; one incident for the first problem to be linked to.
        by_kind: dict[str, list[Scenario]] = {
            kind: [s for s in SCENARIOS if s.kind == kind]
            for kind in (TicketKind.INCIDENT, TicketKind.REQUEST)
        }
        for plan in plans:
            if plan.scenario is None:
                plan.scenario = rng.choice(by_kind[plan.kind])
        # Something a person attached, however few tickets.
        with_files = [s for s in by_kind[TicketKind.INCIDENT] if s.evidence is not None]
        worked = [
            p for p in plans if not p.merge_target and p.status in (Status.RESOLVED, Status.CLOSED)
        ]
        with_evidence = [p for p in worked if p.scenario and p.scenario.evidence]
        if worked and not with_evidence:
            plan = rng.choice(worked)
            plan.kind = TicketKind.INCIDENT
            plan.scenario = rng.choice(with_files)
            with_evidence.append(plan)
        for problem in forced_topics:
            topical = [s for s in by_kind[TicketKind.INCIDENT] if problem.topic in s.tags]
            candidates = [p for p in plans if not p.merge_target and p not in with_evidence[:1]]
            if topical and candidates and not any(problem.topic in p.tags for p in plans):
                plan = rng.choice(candidates)
                plan.kind = TicketKind.INCIDENT
                plan.scenario = rng.choice(topical)
        for plan in plans:
            plan.requester = self.pick_requester()
            plan.source = rng.choices([Source.PORTAL, Source.EMAIL, Source.DESK], [55, 30, 15])[0]
            if plan.status == Status.NEW and plan.source == Source.DESK:
                plan.source = Source.PORTAL  # a call is picked up while the caller is on the line
        self.plans += plans
        return plans

    def security_plan(self, scenario: Scenario) -> Plan:
        created = self.business_moment(timedelta(days=HISTORY_DAYS - 5), timedelta(days=1))
        status = self.status_for_age(self.limit - created)
        if status in (Status.NEW, Status.CANCELLED):
            status = Status.IN_PROGRESS
        plan = Plan(
            kind=TicketKind.INCIDENT,
            created_at=created,
            status=status,
            scenario=scenario,
            requester=self.pick_requester(),
            source=Source.DESK,
            confidential=True,
        )
        self.plans.append(plan)
        return plan

    def problem_plan(self, problem: ProblemScenario, *, forced: bool) -> Plan:
        created = self.business_moment(timedelta(days=75), timedelta(days=4))
        if forced:
            status = Status.KNOWN_ERROR
        else:
            statuses = {
                Status.NEW: 5,
                Status.IN_PROGRESS: 20,
                Status.KNOWN_ERROR: 35,
                Status.RESOLVED: 15,
                Status.CLOSED: 25,
            }
            status = self.rng.choices(list(statuses), list(statuses.values()))[0]
        plan = Plan(kind=TicketKind.PROBLEM, created_at=created, status=status, problem=problem)
        self.plans.append(plan)
        return plan

    def values_for(self, plan: Plan) -> dict[str, str]:
        """The placeholder values of one ticket: its people, places and things."""
        rng = self.rng
        prefix = self.flavour.prefix
        floor = rng.randint(1, 6)
        requester = plan.requester
        colleague = self.pick_requester(not_=requester) if requester else self.pick_requester()
        day = (plan.created_at + timedelta(days=rng.randint(3, 10))).astimezone(self.zone)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return {
            "first": first_name(requester) if requester else "there",
            "site": rng.choice(self.flavour.sites),
            "floor": str(floor),
            "room": f"{floor}.{rng.randint(1, 24):02d}",
            "printer": f"{prefix}-PRN-{floor}{rng.choice('AB')}",
            "server": f"{prefix.lower()}-{rng.choice(SERVER_ROLES)}",
            "fileserver": f"{prefix.lower()}-fs0{rng.randint(1, 2)}",
            "asset": f"{prefix}-LT-{rng.randint(1000, 4999)}",
            "share": rng.choice(SHARES),
            "newstarter": rng.choice(NEW_STARTERS),
            "colleague": colleague.user.full_name or colleague.user.email,
            "day": f"{day:%A} {day.day} {day:%B}",
            "n": str(rng.randint(2, 9)),
            "ip": f"203.0.113.{rng.randint(10, 250)}",
        }

    # --- Incidents, requests and security incidents -------------------------------------------

    def schedule_talk(self, plan: Plan) -> None:
        """A conversation ticket: filed, triaged, talked through, and (mostly) settled."""
        rng = self.rng
        scenario = planned(plan.scenario)
        requester = self.requester(plan)
        c = plan.created_at
        values = plan.values = self.values_for(plan)
        final_team = self.cast.team(scenario.team)
        first_line = self.cast.team(SERVICE_DESK)
        escalate = (
            not plan.confidential
            and plan.source != Source.DESK
            and final_team is not None
            and final_team != first_line
            and rng.random() < 0.6
        )
        triage_team = first_line if escalate else final_team
        first_agent = self.pick_agent(triage_team)
        agent = self.pick_agent(final_team) if escalate else first_agent
        creator = requester
        if plan.confidential:
            creator = self.lead_of(final_team) or first_agent
            agent = first_agent = self.pick_agent(final_team, not_=creator)
        elif plan.source == Source.DESK:
            creator = first_agent

        def text(template: str) -> str:
            return fill(template, values)

        impact, urgency = (self.jitter(scenario.impact), self.jitter(scenario.urgency))
        category = self.categories.get(scenario.category)
        routing = {"team": triage_team, "category": category, "tags": scenario.tags}
        send_file = scenario.attachment is not None and rng.random() < 0.7
        file_on_create = send_file and (not scenario.answer or rng.random() < 0.4)
        routed = creator != requester
        self.at(
            c,
            self.create(
                plan,
                creator,
                title=text(rng.choice(scenario.titles)),
                description=text(scenario.description),
                impact=impact,
                urgency=urgency,
                routing={**routing, "assignee": first_agent.user} if routed else {},
                files=[self.attachment(scenario.attachment, values)] if file_on_create else [],
            ),
        )

        status = plan.status
        if status == Status.NEW:
            self.schedule_new(plan, first_agent, routing)
            return
        if status == Status.CANCELLED and (not scenario.ask or rng.random() < 0.5):
            moment = c + min((self.limit - c) * rng.uniform(0.1, 0.6), timedelta(days=2))
            moment = max(moment, c + STEP)
            body = rng.choice(REQUESTER_CANCELS)
            self.at(moment, self.comment(plan, requester, body))
            self.at(moment + timedelta(minutes=1), self.move(plan, requester, Status.CANCELLED))
            return

        steps: list[Action] = []
        if not routed:
            steps.append(self.update(plan, first_agent, assignee=first_agent.user, **routing))
        if not plan.confidential and rng.random() < 0.12:
            watcher = rng.choice([*self.cast.requesters, *self.cast.leads])
            if watcher != requester:
                steps.append(self.watch(plan, first_agent, watcher))
        if plan.confidential and final_team is not None and creator in self.cast.leads:
            steps.append(self.grant(plan, creator, final_team))
        matrix = self.settings.priority_for(impact, urgency)
        if not plan.confidential and matrix > 1 and self.cast.leads and rng.random() < 0.04:
            steps.append(
                self.update(
                    plan,
                    self.lead_of(first_line) or self.cast.leads[0],
                    priority=matrix - 1,
                    priority_reason=rng.choice(OVERRIDE_REASONS),
                )
            )
        first_reply = ""
        if scenario.ask:
            first_reply = text(scenario.ask)
        elif status in (Status.IN_PROGRESS, Status.PENDING):
            thanks = ACKNOWLEDGEMENTS.get(plan.kind, ACKNOWLEDGEMENTS[TicketKind.INCIDENT])
            first_reply = text(rng.choice(thanks))
        steps_from = c  # when the steps below may start
        if first_reply:
            steps.append(self.comment(plan, first_agent, first_reply))
            if matrix <= Priority.HIGH and not plan.confidential and rng.random() < 0.85:
                # A P1 or P2 is answered within minutes, whoever is on call (mostly):
                # the demo's SLAs show a desk that keeps most urgent promises.
                steps_from = c + timedelta(minutes=rng.uniform(4, 20))
                self.place(c, steps_from, steps)
                steps = []
        if escalate and final_team is not None:
            note = rng.choice(ESCALATION_NOTES).replace("{team}", final_team.name)
            steps.append(self.comment(plan, first_agent, note, internal=True))
            steps.append(self.update(plan, first_agent, team=final_team, assignee=agent.user))
        if scenario.note and (scenario.evidence or rng.random() < 0.7):
            evidence = [self.attachment(scenario.evidence, values)] if scenario.evidence else []
            steps.append(
                self.comment(plan, agent, text(scenario.note), internal=True, files=evidence)
            )
        answer_files = (
            [self.attachment(scenario.attachment, values)]
            if (send_file and not file_on_create)
            else []
        )

        if status == Status.IN_PROGRESS:
            if scenario.answer and rng.random() < 0.7:
                steps.append(
                    self.comment(plan, requester, text(scenario.answer), files=answer_files)
                )
                if rng.random() < 0.3:
                    steps.append(self.comment(plan, agent, text(rng.choice(SECOND_QUESTIONS))))
            end = self.limit - rng.uniform(0.02, 0.5) * min(self.limit - c, timedelta(days=2))
            end = self.at_work(end, not_before=c + STEP * (len(steps) + 1))
            self.place(steps_from, end, steps)
            return
        if status == Status.PENDING:
            if scenario.answer and rng.random() < 0.4:
                steps.append(
                    self.comment(plan, requester, text(scenario.answer), files=answer_files)
                )
                steps.append(self.comment(plan, agent, text(rng.choice(SECOND_QUESTIONS))))
            elif not scenario.ask:
                steps.append(self.comment(plan, agent, text(rng.choice(SECOND_QUESTIONS))))
            steps.append(self.move(plan, agent, Status.PENDING, note=rng.choice(PENDING_NOTES)))
            end = self.limit - rng.uniform(0.05, 0.6) * min(self.limit - c, timedelta(days=3))
            end = self.at_work(end, not_before=c + STEP * (len(steps) + 1))
            self.place(steps_from, end, steps)
            return
        if status == Status.CANCELLED:
            steps.append(self.move(plan, agent, Status.CANCELLED, note=rng.choice(AGENT_CANCELS)))
            end = self.work_after(c, self.duration(plan.kind) * 2, by=c + (self.limit - c) * 0.9)
            self.place(steps_from, end, steps)
            return

        # Resolved, and maybe closed since.
        if scenario.answer:
            steps.append(self.comment(plan, requester, text(scenario.answer), files=answer_files))
        fix = text(scenario.fix) if scenario.fix else "Done — please let us know if anything's off."
        resolve = self.resolve(plan, agent, fix, scenario.code, text(scenario.resolution))
        resolved_at, closed_at, auto_close = self.settle_times(plan)
        reopen = (
            plan.kind == TicketKind.INCIDENT
            and self.window >= timedelta(days=1)
            and resolved_at - c > timedelta(hours=8)
            and rng.random() < 0.1
        )
        if reopen:
            begin, finish = self.clock.minutes(c), self.clock.minutes(resolved_at)
            first_resolve = self.clock.moment(begin + (finish - begin) * rng.uniform(0.3, 0.6))
            first_resolve = min(max(first_resolve, c + STEP * (len(steps) + 2)), resolved_at)
            gap = min(resolved_at - first_resolve, self.window - timedelta(hours=1))
            comeback = first_resolve + gap * rng.uniform(0.2, 0.6)
            self.place(steps_from, first_resolve, [*steps, resolve])
            self.at(comeback, self.comment(plan, requester, rng.choice(REOPEN_REPLIES)))
            again = self.resolve(
                plan, agent, rng.choice(AFTER_REOPEN), scenario.code, text(scenario.resolution)
            )
            self.at(max(resolved_at, comeback + STEP), again)
        else:
            self.place(steps_from, resolved_at, [*steps, resolve])
        if status == Status.CLOSED:
            self.at(
                closed_at,
                self.auto_close(plan) if auto_close else self.move(plan, requester, Status.CLOSED),
            )

    def schedule_new(self, plan: Plan, agent: Membership, routing: Mapping[str, object]) -> None:
        """Not picked up yet: maybe routed to a team, maybe nudged by the requester."""
        rng = self.rng
        c = plan.created_at
        span = self.limit - c
        if not plan.untouched and rng.random() < 0.35:
            moment = self.work_after(c, rng.expovariate(1 / 30) + 2, by=c + span / 3)
            assignee = {"assignee": agent.user} if rng.random() < 0.5 else {}
            self.at(moment, self.update(plan, agent, **routing, **assignee))
        if span > timedelta(hours=3) and rng.random() < 0.3:
            self.at(
                c + span * rng.uniform(0.5, 0.95),
                self.comment(plan, self.requester(plan), rng.choice(REQUESTER_NUDGES)),
            )

    def settle_times(self, plan: Plan) -> tuple[datetime, datetime, bool]:
        """When a resolved (or closed) ticket was resolved, when it was closed,
        and whether the reopen window closed it rather than its requester."""
        rng = self.rng
        c = plan.created_at
        earliest = c + timedelta(minutes=40)
        if plan.merge_target:
            earliest = c + timedelta(hours=3)  # its duplicate comes in meanwhile
        wanted = self.clock.moment(self.clock.minutes(c) + self.duration(plan.kind))
        if plan.status == Status.RESOLVED:
            # Still inside the reopen window, or the sweeper would have closed it.
            lowest = max(earliest, self.now - self.window + timedelta(hours=1))
            resolved = self.between(wanted, lowest, self.limit - timedelta(minutes=5))
            return resolved, resolved, False
        if self.limit - c > self.window + timedelta(days=1) and rng.random() < 0.65:
            latest = self.limit - self.window - timedelta(minutes=30)
            resolved = self.between(wanted, earliest, latest)
            return resolved, resolved + self.window + timedelta(minutes=rng.uniform(1, 14)), True
        resolved = self.between(wanted, earliest, self.limit - timedelta(minutes=30))
        # The requester confirms within a day or two, whenever they read their mail.
        confirm = min(timedelta(hours=rng.uniform(0.3, 48)), (self.limit - resolved) * 0.9)
        return resolved, resolved + max(confirm, STEP), False

    def between(self, wanted: datetime, lowest: datetime, latest: datetime) -> datetime:
        """``wanted`` if it lies between the bounds, else somewhere between
        them (not on a bound: tickets would pile up on one minute); moved into
        working hours if that keeps it in bounds."""
        if latest <= lowest:
            return latest
        if not lowest <= wanted <= latest:
            wanted = lowest + (latest - lowest) * self.rng.uniform(0.2, 0.95)
        return self.at_work(wanted, not_before=lowest)

    def jitter(self, level: int) -> int:
        if self.rng.random() < 0.25:
            level += self.rng.choice((-1, 1))
        return min(max(level, Level.HIGH), Level.LOW)

    def place(self, start: datetime, end: datetime, steps: Sequence[Action]) -> None:
        for moment, step in zip(self.spread(start, end, len(steps)), steps, strict=True):
            self.at(moment, step)

    # --- Duplicates ------------------------------------------------------------------------------

    def schedule_duplicate(self, target: Plan) -> None:
        """Someone else reports the same outage; an agent merges it into the first report."""
        rng = self.rng
        scenario = planned(target.scenario)
        created = target.created_at + timedelta(minutes=rng.uniform(10, 40))
        plan = Plan(
            kind=TicketKind.INCIDENT,
            created_at=created,
            status=Status.CLOSED,
            scenario=scenario,
            requester=self.pick_requester(not_=self.requester(target)),
            source=rng.choice((Source.PORTAL, Source.EMAIL)),
        )
        self.plans.append(plan)
        values = plan.values = self.values_for(plan)
        for shared in ("site", "floor", "room", "printer", "server", "share"):
            values[shared] = target.values[shared]
        self.at(
            created,
            self.create(
                plan,
                self.requester(plan),
                title=fill(rng.choice(scenario.titles), values),
                description=fill(scenario.description, values),
                impact=scenario.impact,
                urgency=scenario.urgency,
                routing={},
                files=[],
            ),
        )
        if rng.random() < 0.6:
            moment = created + timedelta(minutes=rng.uniform(2, 8))
            self.at(moment, self.comment(plan, self.requester(plan), rng.choice(DUPLICATE_REPORTS)))
        merged = created + timedelta(minutes=rng.uniform(10, 30))
        agent = self.pick_agent(self.cast.team(SERVICE_DESK))
        self.at(merged, self.merge(plan, target, agent))

    # --- Problems and changes ------------------------------------------------------------------

    def schedule_problem(self, plan: Plan, talks: Sequence[Plan]) -> None:
        """A problem behind recurring incidents: analysed, worked around, fixed."""
        rng = self.rng
        problem = planned(plan.problem)
        c = plan.created_at
        team = self.cast.team(problem.team)
        owner = self.pick_agent(team)
        creator = owner if rng.random() < 0.5 else (self.lead_of(team) or owner)
        plan.requester = creator
        plan.values = self.values_for(plan)
        self.at(
            c,
            self.create(
                plan,
                creator,
                title=fill(problem.title, plan.values),
                description=fill(problem.description, plan.values),
                impact=problem.impact,
                urgency=problem.urgency,
                routing={
                    "assignee": owner.user,
                    "team": team,
                    "category": self.categories.get(problem.category),
                    "tags": (problem.topic,),
                },
                files=[],
            ),
        )
        steps: list[Action] = []
        status = plan.status
        if status != Status.NEW:
            steps.append(self.comment(plan, owner, problem.analysis, internal=True))
            steps.append(self.move(plan, owner, Status.IN_PROGRESS))
        if status in (Status.KNOWN_ERROR, Status.RESOLVED, Status.CLOSED):
            steps.append(self.comment(plan, owner, problem.workaround, internal=True))
            steps.append(self.move(plan, owner, Status.KNOWN_ERROR, note=problem.workaround))
        age = self.limit - c
        if status in (Status.RESOLVED, Status.CLOSED):
            resolved, closed, auto = self.settle_times_long(plan)
            moments = self.spread(c, resolved, len(steps) + 1)
            for moment, step in zip(moments, steps, strict=False):
                self.at(moment, step)
            plan.started_at = moments[1] if len(moments) > 1 else c
            self.at(
                resolved,
                self.move(
                    plan,
                    owner,
                    Status.RESOLVED,
                    code=ResolutionCode.SOLVED,
                    notes=problem.resolution,
                ),
            )
            plan.resolved_at = resolved
            if status == Status.CLOSED:
                self.at(
                    closed, self.auto_close(plan) if auto else self.move(plan, owner, Status.CLOSED)
                )
        elif steps:
            end = self.limit - age * rng.uniform(0.05, 0.4)
            end = self.at_work(end, not_before=c + STEP * (len(steps) + 1))
            moments = self.spread(c, end, len(steps))
            for moment, step in zip(moments, steps, strict=True):
                self.at(moment, step)
            plan.started_at = moments[-1]
        self.link_incidents(plan, owner, talks)

    def settle_times_long(self, plan: Plan) -> tuple[datetime, datetime, bool]:
        """Resolution and closing of a problem or change: weeks, not hours."""
        rng = self.rng
        c = plan.created_at
        age = self.limit - c
        if plan.status == Status.RESOLVED:
            lowest = max(c + age * 0.5, self.now - self.window + timedelta(hours=1))
            resolved = min(lowest + timedelta(hours=rng.uniform(1, 48)), self.limit - STEP * 3)
            resolved = self.at_work(resolved, not_before=lowest)
            return resolved, resolved, False
        if age > self.window + timedelta(days=2) and rng.random() < 0.5:
            latest = self.limit - self.window - timedelta(hours=1)
            resolved = self.at_work(c + (latest - c) * rng.uniform(0.4, 0.9), not_before=c)
            return resolved, resolved + self.window + timedelta(minutes=rng.uniform(1, 14)), True
        resolved = self.at_work(c + age * rng.uniform(0.4, 0.8), not_before=c)
        closed = self.work_after(resolved, rng.uniform(60, 1800), by=self.limit - STEP)
        return resolved, closed, False

    def link_incidents(self, problem: Plan, owner: Membership, talks: Sequence[Plan]) -> None:
        """The incidents this problem is behind, linked by its owner as they come to light."""
        topic = planned(problem.problem).topic
        candidates = [
            p
            for p in talks
            if topic in p.tags
            and p.kind in (TicketKind.INCIDENT, TicketKind.REQUEST)
            and not p.confidential
        ]
        candidates.sort(key=lambda p: abs(p.created_at - problem.created_at))
        near = [
            p for p in candidates if abs(p.created_at - problem.created_at) < timedelta(days=40)
        ]
        for incident in (near or candidates[:1])[:5]:
            start = max(incident.created_at, problem.created_at)
            by = start + (self.limit - start) * 0.5
            moment = self.work_after(start, self.rng.uniform(20, 900), by=by)
            self.at(moment, self.link(incident, owner, "problem", problem))

    def schedule_problem_change(self, problem: Plan) -> None:
        """The change that fixes a known error: planned, approved, implemented."""
        rng = self.rng
        scenario = planned(problem.problem)
        start = problem.started_at or problem.created_at + timedelta(hours=2)
        if problem.resolved_at is not None:
            stop = problem.resolved_at - timedelta(hours=2)
            status = Status.CLOSED if self.limit - stop > self.window else Status.RESOLVED
        else:
            stop = self.limit - (self.limit - start) * rng.uniform(0.02, 0.4)
            stop = self.at_work(stop, not_before=start)
            status = rng.choice((Status.NEW, Status.PENDING, Status.IN_PROGRESS))
        start = min(start + timedelta(minutes=30), stop - timedelta(hours=1))
        created = start + (stop - start) * rng.uniform(0.05, 0.3)
        team = self.cast.team(scenario.team)
        plan = Plan(kind=TicketKind.CHANGE, created_at=created, status=status)
        plan.change = ChangeScenario(
            scenario.topic,
            scenario.change_title,
            scenario.change_description,
            scenario.change_plan,
            scenario.change_done,
            team=scenario.team,
            category=scenario.category,
        )
        self.schedule_change(plan, team, [problem], stop)

    def schedule_own_change(self, change: ChangeScenario, talks: Sequence[Plan]) -> None:
        """A change of its own (a firewall rule, a DNS record), linked to what asked for it."""
        rng = self.rng
        asking = [p for p in talks if change.topic in p.tags and not p.confidential]
        if asking:
            first = rng.choice(asking)
            created = self.work_after(first.created_at, rng.uniform(60, 900), by=self.limit)
        else:
            created = self.business_moment(timedelta(days=80), timedelta(days=1))
        age = self.limit - created
        if age < timedelta(days=3):
            status = rng.choice((Status.NEW, Status.IN_PROGRESS, Status.PENDING))
        elif age < self.window:
            status = Status.RESOLVED
        else:
            status = Status.CLOSED if rng.random() < 0.9 else Status.CANCELLED
        related = [p for p in asking if p.created_at < created]
        related.sort(key=lambda p: created - p.created_at)
        related = related[:2]
        plan = Plan(kind=TicketKind.CHANGE, created_at=created, status=status, change=change)
        stop = created + min(timedelta(days=rng.uniform(1, 10)), age * 0.8)
        stop = self.at_work(stop, not_before=created)
        if status == Status.RESOLVED:
            stop = max(stop, self.now - self.window + timedelta(hours=2))
            stop = min(stop, self.limit - timedelta(minutes=10))
        self.schedule_change(plan, self.cast.team(change.team), related, stop)

    def schedule_change(
        self, plan: Plan, team: Team | None, fixes: Sequence[Plan], stop: datetime
    ) -> None:
        change = planned(plan.change)
        rng = self.rng
        owner = self.pick_agent(team)
        plan.requester = owner
        plan.values = self.values_for(plan)
        for related in fixes:
            for shared in ("server", "ip"):
                if related.values.get(shared):
                    plan.values[shared] = related.values[shared]
        c = plan.created_at
        self.at(
            c,
            self.create(
                plan,
                owner,
                title=fill(change.title, plan.values),
                description=fill(change.description, plan.values),
                impact=Level.MEDIUM,
                urgency=Level.LOW,
                routing={
                    "assignee": owner.user,
                    "team": team,
                    "category": self.categories.get(change.category),
                    "tags": (change.topic, "change"),
                },
                files=[],
            ),
        )
        self.plans.append(plan)
        steps: list[Action] = [self.link(plan, owner, "change", fixed) for fixed in fixes]
        status = plan.status
        steps.append(self.comment(plan, owner, fill(change.plan, plan.values), internal=True))
        if status == Status.CANCELLED:
            steps.append(
                self.move(plan, owner, Status.CANCELLED, note="Superseded by a later change.")
            )
        elif status != Status.NEW:
            steps.append(self.move(plan, owner, Status.IN_PROGRESS, note="Implementation started."))
            if status == Status.PENDING:
                steps.append(
                    self.move(
                        plan, owner, Status.PENDING, note="Waiting for the change advisory board."
                    )
                )
            if status in (Status.RESOLVED, Status.CLOSED):
                steps.append(
                    self.move(
                        plan,
                        owner,
                        Status.RESOLVED,
                        code=ResolutionCode.SOLVED,
                        notes=fill(change.done, plan.values),
                    )
                )
        self.place(c, max(stop, c + STEP * (len(steps) + 1)), steps)
        if status == Status.CLOSED:
            closed = self.work_after(stop, rng.uniform(60, 900), by=self.limit - STEP)
            self.at(closed, self.move(plan, owner, Status.CLOSED))

    # --- Security incidents -------------------------------------------------------------------

    # (Planned like any conversation, with ``confidential`` set: created by a lead,
    # worked by the security team, granted to it.)

    # --- Steps --------------------------------------------------------------------------------
    # Each returns the action to play at its moment; every one is a service call.

    def create(
        self,
        plan: Plan,
        creator: Membership,
        *,
        title: str,
        description: str,
        impact: int,
        urgency: int,
        routing: dict[str, object],
        files: Sequence[tuple[str, bytes]],
    ) -> Action:
        def act(when: datetime) -> None:
            plan.ticket = services.ticket_create(
                actor=Actor.of(creator),
                kind=plan.kind,
                title=title,
                description=description,
                impact=impact,
                urgency=urgency,
                requester=self.requester(plan).user,
                source=plan.source,
                is_confidential=plan.confidential,
                files=[ContentFile(data, name=name) for name, data in files],
                now=when,
                **routing,  # type: ignore[arg-type]
            )

        return act

    def update(self, plan: Plan, actor: Membership, **changes: object) -> Action:
        def act(when: datetime) -> None:
            services.ticket_update(
                actor=Actor.of(actor),
                ticket=self.ticket(plan),
                now=when,
                **changes,  # type: ignore[arg-type]
            )

        return act

    def comment(
        self,
        plan: Plan,
        author: Membership,
        body: str,
        *,
        internal: bool = False,
        files: Sequence[tuple[str, bytes]] = (),
    ) -> Action:
        def act(when: datetime) -> None:
            services.comment_add(
                actor=Actor.of(author),
                ticket=self.ticket(plan),
                body=body,
                is_internal=internal,
                source=self.comment_source(plan, author),
                files=[ContentFile(data, name=name) for name, data in files],
                now=when,
            )

        return act

    def move(
        self,
        plan: Plan,
        actor: Membership,
        status: str,
        *,
        code: str = "",
        notes: str = "",
        note: str = "",
    ) -> Action:
        def act(when: datetime) -> None:
            services.ticket_transition(
                actor=Actor.of(actor),
                ticket=self.ticket(plan),
                status=status,
                resolution_code=code,
                resolution_notes=notes,
                note=note,
                now=when,
            )

        return act

    def resolve(self, plan: Plan, agent: Membership, reply: str, code: str, notes: str) -> Action:
        """The agent tells the requester, then resolves a minute later."""
        reply_step = self.comment(plan, agent, reply)
        move_step = self.move(plan, agent, Status.RESOLVED, code=code, notes=notes)

        def act(when: datetime) -> None:
            reply_step(when)
            move_step(when + timedelta(minutes=1))

        return act

    def auto_close(self, plan: Plan) -> Action:
        def act(when: datetime) -> None:
            services.ticket_close_if_due(
                ticket_id=self.ticket(plan).pk, tenant_id=self.tenant.pk, now=when
            )

        return act

    def watch(self, plan: Plan, actor: Membership, watcher: Membership) -> Action:
        def act(when: datetime) -> None:
            services.watcher_add(
                actor=Actor.of(actor), ticket=self.ticket(plan), user=watcher.user, now=when
            )

        return act

    def grant(self, plan: Plan, lead: Membership, team: Team) -> Action:
        def act(when: datetime) -> None:
            services.confidential_grant(
                actor=Actor.of(lead), ticket=self.ticket(plan), team=team, now=when
            )

        return act

    def link(self, plan: Plan, actor: Membership, relation: str, other: Plan) -> Action:
        def act(when: datetime) -> None:
            services.ticket_link(
                actor=Actor.of(actor),
                ticket=self.ticket(plan),
                relation=relation,
                other=self.ticket(other),
                now=when,
            )

        return act

    def merge(self, source: Plan, target: Plan, agent: Membership) -> Action:
        def act(when: datetime) -> None:
            services.ticket_merge(
                actor=Actor.of(agent),
                source=self.ticket(source),
                target=self.ticket(target),
                now=when,
            )

        return act

    def attachment(self, spec: tuple[str, str] | None, values: dict[str, str]) -> tuple[str, bytes]:
        name, text = planned(spec)
        return name, fill(text, values).encode()

    @staticmethod
    def requester(plan: Plan) -> Membership:
        return planned(plan.requester)

    @staticmethod
    def comment_source(plan: Plan, author: Membership) -> str:
        if author.role != Role.REQUESTER:
            return Source.DESK
        # A caller's later replies come through the portal.
        return Source.PORTAL if plan.source == Source.DESK else plan.source

    @staticmethod
    def ticket(plan: Plan) -> Ticket:
        return planned(plan.ticket)  # steps play after their ticket's creation
