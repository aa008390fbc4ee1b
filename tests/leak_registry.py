"""What the cross-tenant leak matrix needs to know about the routes.

Every URL keyword argument names an object; ``FOREIGN_VALUES`` says how to
fetch the *foreign* tenant's object for it. A new route whose keyword is not
here fails the matrix until its factory is registered, so no route is left
out by accident. A route may be left out only in ``EXCLUDED``, with a reason.

``foreign_markers`` lists text that must never appear in a response to one of
our users; ``foreign_fingerprint`` captures the foreign tenant's state, which
no request of ours may change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.models import CatalogItem, Order
from catalog.models import Service as CatalogService
from kb.models import Article, ArticleLink, Deflection, Feedback, ReviewStep, Revision
from servicedesk.models import ApiToken, AuditEvent, Invitation, Membership, Role, Team
from servicedesk.search.models import SearchDocument
from slo.models import Calendar, Clock, Escalation, Policy
from tests.conftest import KbWorld, TicketWorld, World
from tickets.models import (
    Attachment,
    Category,
    Comment,
    Notification,
    SavedView,
    Ticket,
    TicketEvent,
    TicketSettings,
    TicketTag,
    Watcher,
)

FOREIGN_VALUES: dict[str, Callable[[World], Any]] = {
    "tenant_slug": lambda w: w.tenant.slug,
    "membership_id": lambda w: w.members[Role.AGENT].pk,
    "team_slug": lambda w: w.team.slug,
    "invitation_id": lambda w: w.invitation.pk,
    "token_id": lambda w: w.api_token.pk,
    "key": lambda w: tickets_of(w).ticket.key,
    "number": lambda w: tickets_of(w).ticket.key,
    "attachment_id": lambda w: tickets_of(w).attachment.pk,
    "view_id": lambda w: tickets_of(w).saved_view.pk,
    "category_id": lambda w: tickets_of(w).category.pk,
    "calendar_id": lambda w: tickets_of(w).sla.calendar.pk,
    "policy_id": lambda w: tickets_of(w).sla.policy.pk,
    "escalation_id": lambda w: tickets_of(w).sla.escalation.pk,
    "item_id": lambda w: tickets_of(w).catalog.item.pk,
    "service_id": lambda w: tickets_of(w).catalog.service.pk,
    "article_id": lambda w: kb_of(w).article.pk,
    "revision_number": lambda w: kb_of(w).revision.number,
}


def kb_of(world: World) -> KbWorld:
    if world.kb is None:
        raise LookupError("the foreign world is built with an article")
    return world.kb


def tickets_of(world: World) -> TicketWorld:
    if world.tickets is None:
        raise LookupError("the foreign world is built with tickets")
    return world.tickets


# Route name (or namespace followed by ":") -> why the matrix does not walk it.
EXCLUDED: dict[str, str] = {
    "admin:": "Django admin is the platform operators' cross-tenant tool; it admits only "
    "is_staff users (tested in test_platform_admin).",
    "invitation_accept": "Addressed by a signed token, not an id; the token names its "
    "invitation and tenant (tested in servicedesk/test_invitations).",
    "password_reset_confirm": "Addressed by a signed per-user token; carries no tenant data.",
}


def foreign_markers(world: World) -> list[str]:
    return [
        world.tenant.name,
        world.team.name,
        world.invitation.email,
        world.api_token.name,
        *(m.user.email for m in world.members.values()),
        *(
            [
                world.tickets.ticket.title,
                world.tickets.ticket.description,
                world.tickets.comment.body,
                world.tickets.note.body,
                world.tickets.attachment.filename,
                world.tickets.saved_view.name,
                world.tickets.category.name,
                world.tickets.sla.calendar.name,
                world.tickets.sla.policy.name,
                f"{world.tenant.slug.title()} holiday",
                world.tickets.catalog.service.name,
                world.tickets.catalog.item.name,
                world.tickets.catalog.item.short_description,
                world.tickets.catalog.order.answers["extension"],
            ]
            if world.tickets
            else []
        ),
        *(
            [
                world.kb.article.title,
                world.kb.revision.body,
                world.kb.feedback.comment,
                f"{world.tenant.slug}-kb",
            ]
            if world.kb
            else []
        ),
    ]


def foreign_fingerprint(world: World) -> tuple[Any, ...]:
    tenant = world.tenant
    return (
        tuple(
            Membership.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("pk", "role", "is_active")
        ),
        tuple(Team.objects.for_tenant(tenant).order_by("pk").values_list("pk", "name", "lead_id")),
        tuple(
            Team.members.through.objects.filter(team__tenant=tenant)
            .order_by("pk")
            .values_list("team_id", "user_id")
        ),
        tuple(
            Invitation.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("pk", "accepted_at", "revoked_at")
        ),
        tuple(
            ApiToken.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("pk", "name", "scopes", "expires_at", "revoked_at", "last_used_at")
        ),
        AuditEvent.objects.for_tenant(tenant).count(),
        tuple(
            CatalogItem.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("pk", "status", "schema_version", "updated_at")
        ),
        tuple(Order.objects.for_tenant(tenant).order_by("pk").values_list("pk", "ticket_id")),
        tuple(
            CatalogService.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("pk", "name", "status", "visibility")
        ),
        tuple(
            Ticket.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list(
                "pk",
                "title",
                "status",
                "priority",
                "assignee_id",
                "team_id",
                "category_id",
                "is_confidential",
                "updated_at",
                "duplicate_of_id",
                "parent_id",
                "problem_id",
            )
        ),
        tuple(
            Comment.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("pk", "ticket_id", "body", "is_internal")
        ),
        tuple(
            Attachment.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("pk", "ticket_id", "filename", "is_internal")
        ),
        TicketEvent.objects.for_tenant(tenant).count(),
        tuple(
            Watcher.objects.for_tenant(tenant).order_by("pk").values_list("ticket_id", "user_id")
        ),
        tuple(
            TicketTag.objects.for_tenant(tenant).order_by("pk").values_list("ticket_id", "tag_id")
        ),
        tuple(
            SavedView.objects.for_tenant(tenant).order_by("pk").values_list("pk", "name", "query")
        ),
        tuple(Category.objects.for_tenant(tenant).order_by("pk").values_list("pk", "name")),
        Notification.objects.for_tenant(tenant).count(),
        TicketSettings.objects.for_tenant(tenant).count(),
        tuple(
            Calendar.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("pk", "name", "timezone", "hours", "holidays")
        ),
        tuple(
            Policy.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list(
                "pk",
                "name",
                "position",
                "is_active",
                "calendar_id",
                "first_response_minutes",
                "resolution_minutes",
            )
        ),
        tuple(
            Escalation.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("pk", "trigger", "action", "team_id")
        ),
        tuple(
            Clock.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("pk", "target", "state", "due_at", "policy_id")
        ),
        tuple(
            Article.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list(
                "pk",
                "title",
                "body",
                "status",
                "audience",
                "views",
                "helpful_yes",
                "helpful_no",
                "deflections",
                "updated_at",
            )
        ),
        Revision.objects.for_tenant(tenant).count(),
        ReviewStep.objects.for_tenant(tenant).count(),
        tuple(
            Feedback.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("pk", "is_helpful", "comment")
        ),
        Deflection.objects.for_tenant(tenant).count(),
        ArticleLink.objects.for_tenant(tenant).count(),
        tuple(
            SearchDocument.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("kind", "object_id", "title", "body", "updated_at")
        ),
    )
