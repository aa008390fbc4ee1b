"""The entry point of the demo tickets: ``seed_tickets``."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from servicedesk.models import Tenant
from servicedesk.rls import tenant_context
from tickets import services
from tickets.demo import DEFAULT_TICKETS
from tickets.demo.cast import Cast
from tickets.demo.story import Story
from tickets.models import Ticket


def seed_tickets(
    tenant: Tenant, *, count: int = DEFAULT_TICKETS, now: datetime | None = None
) -> int:
    """File ``count`` tickets of demo history in ``tenant``; the number filed.

    Nothing happens when the tenant has tickets already. One transaction:
    a tenant gets its whole history or none of it, so an interrupted seed
    is simply run again. The tenant row is locked first, so two seeds at
    once do not both find the tenant empty.
    """
    if count <= 0:
        return 0
    with tenant_context(tenant.pk), services.notifications_muted(), transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        if Ticket.objects.for_tenant(tenant).exists():
            return 0
        cast = Cast.of(tenant)
        if cast is None:
            return 0
        story = Story(tenant, cast, count=count, now=now or timezone.now())
        story.ensure_categories()
        story.plan()
        story.play()
        return Ticket.objects.for_tenant(tenant).count()
