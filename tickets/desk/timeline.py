"""The ticket's timeline: its comments and its log in words. Apps that record
entries of their own say how they read
(``tickets.extensions.event_renderers``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tickets import extensions, selectors
from tickets.desk.common import ago
from tickets.extensions import EventLine
from tickets.models import (
    FIRST_RESPONSE,
    Attachment,
    Level,
    Priority,
    ResolutionCode,
    Status,
    Ticket,
    TicketEvent,
)

# --- The timeline ----------------------------------------------------------------------

FIELD_LABELS = {
    "title": "title",
    "description": "description",
    "status": "status",
    "assignee": "assignee",
    "team": "team",
    "category": "category",
    "impact": "impact",
    "urgency": "urgency",
    "priority": "priority",
    "tags": "tags",
    "is_confidential": "confidentiality",
    "resolution_code": "resolution",
}


def _value_label(field: str, value: str, names: dict[str, str]) -> str:
    if not value:
        return ""
    try:
        if field == "status":
            return str(Status(value).label).lower()
        if field == "priority":
            return str(Priority(int(value)).label)
        if field in ("impact", "urgency"):
            return str(Level(int(value)).label).lower()
        if field == "resolution_code":
            return str(ResolutionCode(value).label)
    except ValueError:
        return value
    if field in ("assignee", "watchers", "access"):
        return names.get(value.lower(), value)
    return value


def describe_event(event: TicketEvent, names: dict[str, str]) -> EventLine:
    """``EventLine("changed status from new to in progress")`` and the like."""
    field, action, note = event.field, event.action, event.note
    old = _value_label(field, event.old_value, names)
    new = _value_label(field, event.new_value, names)
    label = FIELD_LABELS.get(field, field.replace("_", " "))
    renderer = extensions.event_renderers.get(action)
    if renderer is not None:
        return renderer.render(event)
    if action == "created":
        return EventLine("created the ticket", note=note)
    if action == FIRST_RESPONSE:
        return EventLine("gave the first response")
    if action == "reopened":
        return EventLine(f"reopened the ticket ({old} → {new})", note=note)
    if action == "attached":
        return EventLine(f"attached {new}", note="internal" if note == "internal" else "")
    if action == "merged":
        if field == "duplicate_of":
            return EventLine("merged this ticket into", ref=new, note=note)
        return EventLine("merged in the duplicate", ref=new, note=note)
    if action in ("linked", "unlinked"):
        relation = {
            "parent": "the parent",
            "problem": "problem",
            "incident": "incident",
            "change": "change",
            "fixes": "this change as the fix for",
        }.get(field, field)
        if action == "linked":
            return EventLine(f"linked {relation}", ref=new, note=note)
        return EventLine(f"unlinked {relation}", ref=old, note=note)
    return EventLine(*_field_change(event, field, old, new, label))


def _field_change(
    event: TicketEvent, field: str, old: str, new: str, label: str
) -> tuple[str, str, str]:
    note = event.note
    if field == "watchers":
        return (f"added {new} as a watcher" if new else f"removed watcher {old}"), "", note
    if field == "access":
        return (f"gave {new} access" if new else f"revoked the access of {old}"), "", ""
    if field == "tags":
        parts = []
        if new:
            parts.append(f"added tag{'s' if ' ' in new else ''} {new.replace(' ', ', ')}")
        if old:
            parts.append(f"removed tag{'s' if ' ' in old else ''} {old.replace(' ', ', ')}")
        return " and ".join(parts) or "changed the tags", "", note
    if field == "is_confidential":
        marked = "marked the ticket confidential" if new == "yes" else "lifted confidentiality"
        return marked, "", note
    if field == "description":
        return "edited the description", "", note
    if field == "assignee":
        if not new:
            return f"unassigned {old}", "", note
        text = f"assigned the ticket to {new}" if not old else f"reassigned {old} → {new}"
        return text, "", note
    if field == "priority" and note == "impact × urgency":
        return f"changed priority from {old} to {new}", "", "from impact × urgency"
    if old and new:
        return f"changed {label} from {old} to {new}", "", note
    if new:
        return f"set {label} to {new}", "", note
    if old:
        return f"cleared {label} (was {old})", "", note
    return f"{event.action} {label}", "", note


@dataclass(frozen=True)
class TimelineItem:
    kind: str  # "comment" or "event"
    at: datetime
    ago: str
    obj: Any
    line: EventLine | None = None
    actor: str = ""
    files: Sequence[Attachment] = ()


def _timeline(
    ticket: Ticket,
    membership: Any,
    names: dict[str, str],
    now: datetime,
    files: Sequence[Attachment],
) -> list[TimelineItem]:
    """The page's timeline; ``files`` are the ticket's (the page lists them
    anyway), from which each comment takes its own: no query of their own."""
    by_comment: dict[int, list[Attachment]] = defaultdict(list)
    for file in files:
        if file.comment_id is not None:
            by_comment[file.comment_id].append(file)
    items = []
    for entry in selectors.ticket_timeline(ticket=ticket, viewer=membership, with_files=False):
        if entry.comment is not None:
            items.append(
                TimelineItem(
                    kind="comment",
                    at=entry.at,
                    ago=ago(entry.at, now),
                    obj=entry.comment,
                    files=by_comment.get(entry.comment.pk, ()),
                )
            )
        elif entry.event is not None:
            event = entry.event
            actor = event.actor.display_name if event.actor else (event.actor_name or "System")
            items.append(
                TimelineItem(
                    kind="event",
                    at=entry.at,
                    ago=ago(entry.at, now),
                    obj=event,
                    line=describe_event(event, names),
                    actor=actor,
                )
            )
    return items
