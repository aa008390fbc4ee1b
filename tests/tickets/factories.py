"""Factories of tickets. Tickets get their number from the tenant's counter,
like the service gives it, so factory tickets and service tickets never clash."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from tests.servicedesk.factories import TenantFactory, UserFactory
from tickets.models import Comment, SavedView, Ticket, TicketEvent, TicketKind
from tickets.search import index_ticket
from tickets.services.intake import _next_number


class TicketFactory(DjangoModelFactory):
    class Meta:
        model = Ticket
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    kind = TicketKind.INCIDENT
    number = factory.LazyAttribute(lambda o: _next_number(o.tenant.pk, o.kind))
    title = factory.Sequence(lambda n: f"Printer on floor {n} jams")
    description = "It jams on every second page."
    requester = factory.SubFactory(UserFactory)
    impact = 3
    urgency = 3
    priority = 5

    @factory.post_generation
    def search_document(self, create, extracted, **kwargs):
        # What ticket_create writes in its transaction: the desk's search finds it.
        if create:
            index_ticket(self)


class CommentFactory(DjangoModelFactory):
    class Meta:
        model = Comment
        skip_postgeneration_save = True

    ticket = factory.SubFactory(TicketFactory)
    tenant = factory.LazyAttribute(lambda o: o.ticket.tenant)
    author = factory.LazyAttribute(lambda o: o.ticket.requester)
    body = "Any news?"

    @factory.post_generation
    def search_document(self, create, extracted, **kwargs):
        if create:
            index_ticket(self.ticket)


class TicketEventFactory(DjangoModelFactory):
    class Meta:
        model = TicketEvent

    ticket = factory.SubFactory(TicketFactory)
    tenant = factory.LazyAttribute(lambda o: o.ticket.tenant)
    action = "changed"
    field = "title"


class SavedViewFactory(DjangoModelFactory):
    class Meta:
        model = SavedView

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"View {n}")
    query = "status=new"


def events(ticket: Ticket) -> list[tuple[str, str, str, str]]:
    """The ticket's audit trail as (action, field, old, new), oldest first."""
    return list(
        TicketEvent.objects.for_tenant(ticket.tenant_id)
        .filter(ticket=ticket)
        .order_by("pk")
        .values_list("action", "field", "old_value", "new_value")
    )
