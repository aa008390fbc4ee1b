"""What SLA clocks are computed from: the tenant's policies as rules (with
their calendars parsed once per content) and a ticket's history read from its
event log. Reads only; shared by the services and the selectors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from servicedesk.models import Membership, Team
from slo import business_time, engine
from slo.business_time import ALWAYS_OPEN, BusinessCalendar
from slo.history import EVENT_ROW_FIELDS, EventRow, Lookups, Moment, names_needed, ticket_history
from slo.models import Calendar, Policy
from tickets.models import Category, Tag, Ticket, TicketEvent, TicketTag

# The action of the SLA's own entries in a ticket's log (never read back).
SLA_ACTION = "sla"


# --- Policies as rules ---------------------------------------------------------------------


@lru_cache(maxsize=512)
def _schedule(zone: str, hours: str, holidays: str) -> BusinessCalendar:
    return business_time.build_calendar(zone, json.loads(hours), json.loads(holidays))


def calendar_schedule(calendar: Calendar | None) -> BusinessCalendar:
    """The pure calendar of a row (``None``: the built-in 24×7), parsed once
    per distinct content."""
    if calendar is None:
        return ALWAYS_OPEN
    return _schedule(
        calendar.timezone,
        json.dumps(calendar.hours, sort_keys=True),
        json.dumps(calendar.holidays, sort_keys=True),
    )


def policy_plan(policy: Policy) -> engine.Plan:
    goals = {
        target: timedelta(minutes=minutes)
        for target in engine.TARGETS
        if (minutes := policy.target_minutes(target))
    }
    return engine.Plan(
        policy_id=policy.pk,
        goals=goals,
        calendar=calendar_schedule(policy.calendar),
        warning_percent=policy.warning_percent,
        pause_statuses=frozenset(policy.pause_statuses or ()),
        calendar_id=policy.calendar_id,
        name=policy.name,
    )


def policy_rule(policy: Policy) -> engine.Rule:
    return engine.Rule(
        plan=policy_plan(policy),
        kinds=frozenset(policy.kinds or ()),
        priorities=frozenset(int(p) for p in policy.priorities or ()),
        team_id=policy.team_id,
        category_id=policy.category_id,
        tag_id=policy.tag_id,
        requester_organisation=policy.requester_organisation,
        vip_only=policy.vip_only,
    )


def tenant_rules(tenant_id: int) -> list[engine.Rule]:
    """The tenant's active policies, in order, as rules (one query)."""
    policies = (
        Policy.objects.for_tenant(tenant_id)
        .filter(is_active=True)
        .select_related("calendar")
        .order_by("position", "pk")
    )
    return [policy_rule(policy) for policy in policies]


# --- A ticket's facts and history ----------------------------------------------------------


def _requester_profile(ticket: Ticket, rules: Sequence[engine.Rule]) -> tuple[str, bool]:
    if not any(rule.requester_organisation or rule.vip_only for rule in rules):
        return "", False  # no policy asks: spare the query
    row = (
        Membership.objects.for_tenant(ticket.tenant_id)
        .filter(user_id=ticket.requester_id)
        .values_list("organisation", "is_vip")
        .first()
    )
    return row or ("", False)


@dataclass(frozen=True)
class Asked:
    """Which routing facts any policy's conditions read: the others are
    neither fetched nor followed through the log."""

    team: bool
    category: bool
    tags: bool

    @classmethod
    def by(cls, rules: Sequence[engine.Rule]) -> Asked:
        return cls(
            team=any(rule.team_id is not None for rule in rules),
            category=any(rule.category_id is not None for rule in rules),
            tags=any(rule.tag_id is not None for rule in rules),
        )


def _lookups(
    ticket: Ticket, rows: Sequence[EventRow], asked: Asked
) -> tuple[Lookups, list[str], frozenset[int]]:
    """Name → id lookups for the log, and the ticket's current tags."""
    needed = names_needed(rows)
    tenant_id = ticket.tenant_id
    current_tags: dict[str, int] = {}
    if asked.tags:
        current_tags = dict(
            TicketTag.objects.for_tenant(tenant_id)
            .filter(ticket_id=ticket.pk)
            .values_list("tag__name", "tag_id")
        )
    tag_ids = dict(current_tags)
    missing = needed["tags"] - set(tag_ids)
    if missing and asked.tags:
        tag_ids.update(
            Tag.objects.for_tenant(tenant_id).filter(name__in=missing).values_list("name", "pk")
        )
    team_ids: dict[str, int] = {}
    if needed["team"] and asked.team:
        team_ids = dict(
            Team.objects.for_tenant(tenant_id)
            .filter(slug__in=needed["team"])
            .values_list("slug", "pk")
        )
    category_ids: dict[str, int] = {}
    if needed["category"] and asked.category:
        category_ids = dict(
            Category.objects.for_tenant(tenant_id)
            .filter(name__in=needed["category"])
            .values_list("name", "pk")
        )
    return (
        Lookups(team_ids=team_ids, category_ids=category_ids, tag_ids=tag_ids),
        list(current_tags),
        frozenset(current_tags.values()),
    )


def _event_rows(ticket: Ticket) -> list[EventRow]:
    return [
        EventRow(**row)
        for row in TicketEvent.objects.for_tenant(ticket.tenant_id)
        .filter(ticket_id=ticket.pk)
        .exclude(action=SLA_ACTION)
        .order_by("created_at", "pk")
        .values(*EVENT_ROW_FIELDS)
    ]


@dataclass
class TicketSla:
    """What the clocks of one ticket are computed from."""

    history: list[Moment]
    rules: list[engine.Rule]

    def plan_for(self, facts: engine.TicketFacts) -> engine.Plan | None:
        return engine.choose_plan(self.rules, facts)


def ticket_sla_inputs(ticket: Ticket, rules: list[engine.Rule] | None = None) -> TicketSla:
    """Read a ticket's history and the tenant's rules."""
    rows = _event_rows(ticket)
    rules = tenant_rules(ticket.tenant_id) if rules is None else rules
    asked = Asked.by(rules)
    lookups, tag_names, tag_ids = _lookups(ticket, rows, asked)
    organisation, is_vip = _requester_profile(ticket, rules)
    current = engine.TicketFacts(
        kind=ticket.kind,
        status=ticket.status,
        priority=ticket.priority,
        team_id=ticket.team_id if asked.team else None,
        category_id=ticket.category_id if asked.category else None,
        tag_ids=tag_ids,
        requester_organisation=organisation,
        requester_is_vip=is_vip,
    )
    return TicketSla(history=ticket_history(current, rows, lookups, tag_names), rules=rules)
