"""The agents' desk: queues, the ticket page, bulk actions and saved views.
Other apps add panels, queue columns, queues and timeline entries through
``tickets.extensions``.

Every page works as plain HTML forms; HTMX (and ``static/js/desk.js``)
make it quicker: the queue re-renders only its rows every 30 seconds, and
an edit on the ticket page re-renders only the parts of the page it
changed. Reads go through ``tickets.selectors`` (which decide what an
agent may see), writes through ``tickets.services``.

By concept: ``queue`` (the queue, bulk actions, saved views), ``new_ticket``,
``ticket_page`` (the page and its actions), ``timeline`` and ``common``.
"""

from tickets.desk.common import ago
from tickets.desk.new_ticket import ticket_create
from tickets.desk.queue import bulk, queue, view_create, view_delete
from tickets.desk.ticket_page import (
    ticket_attachments,
    ticket_detail,
    ticket_fields,
    ticket_links,
    ticket_merge,
    ticket_reply,
    ticket_transition,
    ticket_watchers,
)
from tickets.desk.timeline import TimelineItem, describe_event

__all__ = [
    "TimelineItem",
    "ago",
    "bulk",
    "describe_event",
    "queue",
    "ticket_attachments",
    "ticket_create",
    "ticket_detail",
    "ticket_fields",
    "ticket_links",
    "ticket_merge",
    "ticket_reply",
    "ticket_transition",
    "ticket_watchers",
    "view_create",
    "view_delete",
]
