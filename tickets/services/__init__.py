"""Every write to a ticket: creation, field changes, the workflow, the
conversation, files, links, merges, watchers and the mail they cause.

Each service runs in one transaction, checks the actor's right to act,
enforces the rules (``ValidationError`` with field messages), records a
``TicketEvent`` per change and writes the e-mail it owes to the outbox in the
same transaction. Desk, portal, API and automation all come through here.

The services live by concept, one module each: ``actors`` (who acts),
``common`` (the audit record and the hook), ``intake``, ``fields``,
``transitions``, ``conversation``, ``files``, ``relations``, ``watchers``,
``bulk``, ``saved_views``, ``notifications`` and ``tenant_settings``. Callers
import them from here: ``from tickets import services``.
"""

from tickets.services.actors import Actor
from tickets.services.bulk import BULK_ACTIONS, BulkChange, tickets_bulk_update
from tickets.services.common import (
    BODY_MAX,
    REQUESTER_KINDS,
    TAG_MAX,
    TITLE_MAX,
    clean_tag_names,
    shown,
)
from tickets.services.conversation import comment_add
from tickets.services.fields import EDITABLE_FIELDS, ticket_add_tag, ticket_assign, ticket_update
from tickets.services.files import attachment_add, sanitize_filename, sniff_content_type
from tickets.services.intake import ticket_create
from tickets.services.notifications import (
    MAX_ATTEMPTS,
    SUBJECTS,
    notification_deliver,
    notifications_muted,
    notifications_owed,
    notify,
    ticket_url,
)
from tickets.services.relations import LINK_RELATIONS, ticket_link, ticket_merge, ticket_unlink
from tickets.services.saved_views import saved_view_create, saved_view_delete
from tickets.services.tenant_settings import (
    category_create,
    category_delete,
    ticket_settings_update,
)
from tickets.services.transitions import (
    reopen_deadline,
    ticket_close_if_due,
    ticket_transition,
    tickets_close_resolved,
)
from tickets.services.watchers import (
    confidential_grant,
    confidential_revoke,
    watcher_add,
    watcher_remove,
)

__all__ = [
    "BODY_MAX",
    "BULK_ACTIONS",
    "EDITABLE_FIELDS",
    "LINK_RELATIONS",
    "MAX_ATTEMPTS",
    "REQUESTER_KINDS",
    "SUBJECTS",
    "TAG_MAX",
    "TITLE_MAX",
    "Actor",
    "BulkChange",
    "attachment_add",
    "category_create",
    "category_delete",
    "clean_tag_names",
    "comment_add",
    "confidential_grant",
    "confidential_revoke",
    "notification_deliver",
    "notifications_muted",
    "notifications_owed",
    "notify",
    "reopen_deadline",
    "sanitize_filename",
    "saved_view_create",
    "saved_view_delete",
    "shown",
    "sniff_content_type",
    "ticket_add_tag",
    "ticket_assign",
    "ticket_close_if_due",
    "ticket_create",
    "ticket_link",
    "ticket_merge",
    "ticket_settings_update",
    "ticket_transition",
    "ticket_unlink",
    "ticket_update",
    "ticket_url",
    "tickets_bulk_update",
    "tickets_close_resolved",
    "watcher_add",
    "watcher_remove",
]
