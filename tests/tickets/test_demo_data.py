"""The demo history `seed_demo` files: a believable spread, written through
the services, nobody mailed, numbers without gaps, and never twice."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Q
from django.test import override_settings
from django.utils import timezone

from catalog.demo import DEMO_ORDERS
from servicedesk.models import Membership, Role, Team, Tenant
from servicedesk.rls import tenant_context
from tickets import services
from tickets.demo.seed import seed_tickets
from tickets.models import (
    OPEN_STATUSES,
    Attachment,
    ChangeLink,
    Comment,
    Notification,
    Status,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketKind,
)
from tickets.selectors import visible_tickets

pytestmark = pytest.mark.django_db

# Small enough to stay quick, big enough for every kind of ticket.
COUNT = 40
PLACEHOLDER = re.compile(r"\{[a-z]+\}")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def seed_demo(tickets: int) -> str:
    out = io.StringIO()
    call_command("seed_demo", tickets=tickets, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="class")
def seeded_acme(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo tenants with their people and teams, and acme's history:
    seeded once for a class of read-only tests, rolled back after them."""
    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media),
        transaction.atomic(),
    ):
        seed_demo(0)
        tenant = Tenant.objects.get(slug="acme")
        assert seed_tickets(tenant, count=COUNT) == COUNT
        yield tenant.pk
        transaction.set_rollback(True)


@pytest.fixture
def acme(seeded_acme, db) -> Tenant:
    return Tenant.objects.get(pk=seeded_acme)


def member(tenant: Tenant, local: str) -> Membership:
    return Membership.objects.for_tenant(tenant).get(user__email=f"{local}@{tenant.slug}.example")


class TestSeededDesk:
    def test_every_kind_and_status_shows_up(self, acme):
        tickets = Ticket.objects.for_tenant(acme)
        assert set(tickets.values_list("kind", flat=True)) == set(TicketKind.values)
        assert set(tickets.values_list("status", flat=True)) == set(Status.values)
        assert tickets.filter(kind=TicketKind.PROBLEM, status=Status.KNOWN_ERROR).exists()
        # The unassigned queue has work in it.
        assert tickets.filter(status__in=OPEN_STATUSES, assignee__isnull=True).exists()
        assert tickets.filter(team__isnull=False).values("team").distinct().count() >= 3

    def test_conversations_notes_files_links_and_a_merge(self, acme):
        tickets = Ticket.objects.for_tenant(acme)
        comments = Comment.objects.for_tenant(acme)
        assert comments.filter(is_internal=True).exists()
        # Replies go both ways: requesters and agents.
        authors = set(
            Membership.objects.for_tenant(acme)
            .filter(user__in=comments.filter(is_internal=False).values("author"))
            .values_list("role", flat=True)
        )
        assert Role.REQUESTER in authors
        assert authors & {Role.AGENT, Role.LEAD}

        files = Attachment.objects.for_tenant(acme)
        assert files.exists()
        for attachment in files:
            assert attachment.file.read().strip()
            assert attachment.size > 0

        duplicate = tickets.filter(duplicate_of__isnull=False).get()
        assert duplicate.status == Status.CLOSED
        assert duplicate.duplicate_of.requester != duplicate.requester

        problem = (
            tickets.filter(kind=TicketKind.PROBLEM).annotate(linked=Count("incidents")).first()
        )
        assert problem.linked >= 1
        assert (
            ChangeLink.objects.for_tenant(acme).filter(from_ticket__kind=TicketKind.CHANGE).exists()
        )

    def test_every_placeholder_is_filled(self, acme):
        texts = [
            *Ticket.objects.for_tenant(acme).values_list(
                "title", "description", "resolution_notes"
            ),
            *Comment.objects.for_tenant(acme).values_list("body"),
            *TicketEvent.objects.for_tenant(acme).values_list("note"),
        ]
        texts += [(a.file.read().decode(),) for a in Attachment.objects.for_tenant(acme)]
        leftovers = {found for row in texts for text in row for found in PLACEHOLDER.findall(text)}
        assert leftovers == set()

    def test_a_confidential_incident_is_seen_only_by_those_granted(self, acme):
        secret = Ticket.objects.for_tenant(acme).get(is_confidential=True)
        security = Team.objects.for_tenant(acme).get(slug="security")
        assert secret.team == security

        def sees(local: str) -> bool:
            return visible_tickets(member(acme, local)).filter(pk=secret.pk).exists()

        assert sees("lead")  # in the security team
        assert sees("agent")  # in the security team
        assert not sees("agent2")  # an agent, but not in it
        assert sees("admin")
        assert visible_tickets(
            Membership.objects.for_tenant(acme).get(user=secret.requester)
        ).filter(pk=secret.pk)
        assert TicketEvent.objects.for_tenant(acme).filter(ticket=secret, field="access").exists()

    def test_numbers_run_without_gaps_and_every_ticket_was_created(self, acme):
        tickets = Ticket.objects.for_tenant(acme)
        for kind in TicketKind.values:
            numbers = sorted(tickets.filter(kind=kind).values_list("number", flat=True))
            assert numbers == list(range(1, len(numbers) + 1)), kind
            counter = TicketCounter.objects.for_tenant(acme).get(kind=kind)
            assert counter.last_number == len(numbers)
            # Numbers follow the order of creation.
            by_number = tickets.filter(kind=kind).order_by("number")
            created = list(by_number.values_list("created_at", flat=True))
            assert created == sorted(created), kind

        created_events = TicketEvent.objects.for_tenant(acme).filter(action="created")
        assert Counter(created_events.values_list("ticket_id", flat=True)) == Counter(
            dict.fromkeys(tickets.values_list("pk", flat=True), 1)
        )
        for ticket in tickets:
            event = created_events.get(ticket=ticket)
            assert event.created_at == ticket.created_at
            assert event.new_value == ticket.key

    def test_history_is_in_the_past_and_nobody_was_mailed(self, acme):
        now = timezone.now()
        tickets = Ticket.objects.for_tenant(acme)
        events = TicketEvent.objects.for_tenant(acme)
        assert not Notification.objects.unscoped().exists()
        assert not events.filter(created_at__gt=now).exists()
        assert not tickets.filter(Q(updated_at__gt=now) | Q(updated_at__lt=F("created_at")))
        assert tickets.filter(created_at__lt=now - timedelta(days=30)).exists()
        assert tickets.filter(updated_at__gt=now - timedelta(days=1)).exists()
        # Nothing happens to a ticket before it exists.
        assert not events.filter(created_at__lt=F("ticket__created_at")).exists()
        assert not Comment.objects.for_tenant(acme).filter(created_at__lt=F("ticket__created_at"))
        # Resolved tickets are still inside their reopen window: the sweeper
        # finds nothing to close the moment the demo starts.
        with tenant_context(acme.pk):
            assert services.tickets_close_resolved(now=now) == 0


def test_seed_demo_files_each_tenant_once(media):
    first = seed_demo(25)
    totals = {
        tenant.slug: Ticket.objects.for_tenant(tenant).count()
        for tenant in Tenant.objects.filter(slug__in=["acme", "globex"])
    }
    # The story's tickets, and the requests the demo catalog's orders opened.
    each = 25 + len(DEMO_ORDERS)
    assert totals == {"acme": each, "globex": each}
    events = TicketEvent.objects.unscoped().count()

    second = seed_demo(25)
    assert second == first
    assert Ticket.objects.unscoped().count() == 2 * each
    assert TicketEvent.objects.unscoped().count() == events
    assert not Notification.objects.unscoped().exists()
    # The teams a tenant admin would have added are there once.
    for tenant in Tenant.objects.filter(slug__in=["acme", "globex"]):
        assert set(Team.objects.for_tenant(tenant).values_list("slug", flat=True)) == {
            "service-desk",
            "platform",
            "network",
            "security",
        }


def test_same_tenant_same_story(media):
    seed_demo(0)
    acme = Tenant.objects.get(slug="acme")
    now = timezone.now()
    seed_tickets(acme, count=30, now=now)
    story = list(
        Ticket.objects.for_tenant(acme)
        .order_by("kind", "number")
        .values_list("kind", "number", "title", "status", "created_at")
    )
    Ticket.objects.for_tenant(acme).delete()
    TicketCounter.objects.for_tenant(acme).delete()
    seed_tickets(acme, count=30, now=now)
    again = list(
        Ticket.objects.for_tenant(acme)
        .order_by("kind", "number")
        .values_list("kind", "number", "title", "status", "created_at")
    )
    assert again == story
