"""A ticket's event log read as the history of facts the SLA clocks follow.

The log records changes (old → new) but not the values a ticket was created
with, so the values at creation are found by undoing every change from the
ticket's current values; then the log is walked forward. Pure: the rows and
the name → id lookups come from the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from slo.engine import TicketFacts
from tickets.models import AGENT_REPLY, FIRST_RESPONSE, REQUESTER_REPLY

# Fields whose changes the clocks or the policy conditions depend on.
FACT_FIELDS = ("status", "priority", "team", "category", "tags")


@dataclass(frozen=True)
class EventRow:
    """The parts of a ``TicketEvent`` the history reads."""

    id: int
    action: str
    field: str
    old_value: str
    new_value: str
    note: str
    created_at: datetime


EVENT_ROW_FIELDS = ("id", "action", "field", "old_value", "new_value", "note", "created_at")


@dataclass(frozen=True)
class Moment:
    """The ticket's facts right after one event."""

    at: datetime
    event_id: int
    facts: TicketFacts


@dataclass(frozen=True)
class Lookups:
    """Names in the log -> ids: teams by slug, categories and tags by name.
    A name that no longer exists reads as none."""

    team_ids: Mapping[str, int]
    category_ids: Mapping[str, int]
    tag_ids: Mapping[str, int]


def is_relevant(row: EventRow) -> bool:
    """Does this event move a clock or a policy condition?"""
    if row.action in ("created", FIRST_RESPONSE):
        return True
    if row.action == "commented":
        return row.note in (AGENT_REPLY, REQUESTER_REPLY)
    return row.field in FACT_FIELDS and row.action in ("changed", "reopened")


def names_needed(rows: Iterable[EventRow]) -> dict[str, set[str]]:
    """The team slugs, category and tag names the log mentions."""
    needed: dict[str, set[str]] = {"team": set(), "category": set(), "tags": set()}
    for row in rows:
        if row.field in needed and is_relevant(row):
            for value in (row.old_value, row.new_value):
                if row.field == "tags":
                    needed["tags"].update(value.split())
                elif value:
                    needed[row.field].add(value)
    return needed


def _parse_priority(value: str, fallback: int) -> int:
    try:
        return int(value)
    except ValueError:
        return fallback


def ticket_history(
    current: TicketFacts,
    rows: Sequence[EventRow],
    lookups: Lookups,
    current_tag_names: Iterable[str],
) -> list[Moment]:
    """The facts after each relevant event, oldest first, starting with
    "created". ``current`` holds the ticket's values now (its conversation
    facts are ignored: they are read from the log); ``lookups`` must know the
    current tags' names as well as the log's."""
    rows = [row for row in rows if is_relevant(row)]
    # Undo the changes, newest first, to find the values at creation.
    status = current.status
    priority = current.priority
    team: str | None = None  # names as the log writes them; None: as now
    category: str | None = None
    tags = set(current_tag_names)
    for row in reversed(rows):
        if row.action == "created":
            break
        if row.field == "status":
            status = row.old_value
        elif row.field == "priority":
            priority = _parse_priority(row.old_value, priority)
        elif row.field == "team":
            team = row.old_value
        elif row.field == "category":
            category = row.old_value
        elif row.field == "tags":
            tags.difference_update(row.new_value.split())
            tags.update(row.old_value.split())

    def team_id(slug: str | None) -> int | None:
        return current.team_id if slug is None else lookups.team_ids.get(slug)

    def category_id(name: str | None) -> int | None:
        return current.category_id if name is None else lookups.category_ids.get(name)

    def tag_ids(names: set[str]) -> frozenset[int]:
        return frozenset(lookups.tag_ids[n] for n in names if n in lookups.tag_ids)

    facts = replace(
        current,
        status=status,
        priority=priority,
        team_id=team_id(team),
        category_id=category_id(category),
        tag_ids=tag_ids(tags),
        responded=False,
        awaiting_since=None,
    )
    tag_names = tags
    moments: list[Moment] = []
    created = False
    for row in rows:
        if row.action == "created":
            created = True
        elif not created:
            continue  # nothing counts before the ticket exists
        elif row.action == FIRST_RESPONSE:
            facts = replace(facts, responded=True)
        elif row.action == "commented":
            if row.note == REQUESTER_REPLY:
                if facts.awaiting_since is None:
                    facts = replace(facts, awaiting_since=row.created_at)
            else:
                facts = replace(facts, awaiting_since=None)
        elif row.field == "status":
            facts = replace(facts, status=row.new_value)
        elif row.field == "priority":
            facts = replace(facts, priority=_parse_priority(row.new_value, facts.priority))
        elif row.field == "team":
            facts = replace(facts, team_id=lookups.team_ids.get(row.new_value))
        elif row.field == "category":
            facts = replace(facts, category_id=lookups.category_ids.get(row.new_value))
        elif row.field == "tags":
            tag_names = (tag_names - set(row.old_value.split())) | set(row.new_value.split())
            facts = replace(facts, tag_ids=tag_ids(tag_names))
        moments.append(Moment(at=row.created_at, event_id=row.id, facts=facts))
    return moments
