"""Fixtures shared by the whole suite.

Every test world has two tenants: ``tenant`` (ours) and ``other_tenant``
(foreign), each with one member per role, so a leak has somewhere to come from.

The two worlds are built once per test process and their rows kept; each
test that asks for one gets those rows inserted inside its own transaction
and a fresh copy of the objects, so it sees what a build would have given it
(and nothing any other test did) for a few inserts instead of a few dozen
service calls.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
import redis
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from catalog import services as catalog
from catalog.models import CatalogItem, Order
from catalog.models import Service as CatalogService
from kb import services as kb_services
from kb.models import Article, Feedback, Revision
from servicedesk.models import ApiToken, Invitation, Membership, Role, Team, Tenant, User
from servicedesk.rls import set_current_tenant
from slo import services as sla
from slo.models import Calendar, Clock, Escalation, Policy
from tests.servicedesk.factories import (
    ApiTokenFactory,
    MembershipFactory,
    TeamFactory,
    TenantFactory,
    UserFactory,
)
from tickets.models import Attachment, Category, Comment, SavedView, Ticket, TicketCounter
from tickets.services import (
    Actor,
    comment_add,
    notifications_muted,
    ticket_create,
    watcher_add,
)

ROLES = [Role.REQUESTER, Role.AGENT, Role.LEAD, Role.ADMIN]


@dataclass
class SlaWorld:
    """A tenant's business calendar, a policy with an escalation, and the
    clocks it put on the tenant's ticket."""

    calendar: Calendar
    policy: Policy
    escalation: Escalation
    clocks: list[Clock]


@dataclass
class CatalogWorld:
    """A published catalog item with a form, and a requester's order of it."""

    service: CatalogService
    item: CatalogItem
    order: Order


@dataclass
class TicketWorld:
    """A tenant's ticket with a public reply, an internal note, a file, its
    events, a watcher and a saved view: something for every ticket route to
    reach for."""

    ticket: Ticket
    comment: Comment
    note: Comment
    attachment: Attachment
    saved_view: SavedView
    category: Category
    sla: SlaWorld
    catalog: CatalogWorld


def build_ticket_world(
    tenant: Tenant, members: dict[str, Membership], team: Team, *, first_number: int
) -> TicketWorld:
    # Numbers start where the other world's never reach, so a foreign key
    # names nothing in our tenant.
    TicketCounter.objects.create(tenant=tenant, kind="incident", last_number=first_number - 1)
    agent = Actor.of(members[Role.AGENT])
    requester = members[Role.REQUESTER].user
    label = tenant.slug.title()
    category = Category.objects.create(tenant=tenant, name=f"{label} Plumbing")
    admin = members[Role.ADMIN]
    calendar = sla.calendar_create(
        actor=admin,
        name=f"{label} office hours",
        timezone_name="Europe/Berlin",
        hours={day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        holidays=[{"date": "2026-12-25", "recurring": True, "name": f"{label} holiday"}],
    )
    policy = sla.policy_create(
        actor=admin,
        name=f"{label} standard SLA",
        calendar=calendar,
        first_response_minutes=240,
        next_response_minutes=240,
        resolution_minutes=2400,
    )
    escalation = sla.escalation_create(
        actor=admin, policy=policy, trigger="breach", action="notify_team_lead", team=team
    )
    with notifications_muted():
        ticket = ticket_create(
            actor=agent,
            kind="incident",
            title=f"{label} printer on fire",
            description=f"{label} smoke everywhere",
            requester=requester,
            team=team,
            category=category,
            tags=[f"{tenant.slug}-tag"],
        )
        comment = comment_add(actor=agent, ticket=ticket, body=f"{label} public reply")
        note = comment_add(
            actor=agent,
            ticket=ticket,
            body=f"{label} internal note",
            is_internal=True,
            files=[ContentFile(b"log line", f"{tenant.slug}-server.log")],
        )
        watcher_add(actor=agent, ticket=ticket, user=members[Role.LEAD].user)
    saved_view = SavedView.objects.create(
        tenant=tenant, owner=agent.user, team=team, name=f"{label} hot queue", query="status=new"
    )
    attachment = Attachment.objects.for_tenant(tenant).get(ticket=ticket)
    clocks = list(Clock.objects.for_tenant(tenant).filter(ticket=ticket).order_by("pk"))
    service = catalog.service_create(tenant=tenant, name=f"{label} Telephony", owner_team=team)
    item = catalog.item_create(
        tenant=tenant,
        name=f"{label} desk phone",
        category="Hardware",
        short_description=f"{label} handset on your desk",
        service=service,
        team=team,
        status="published",
        form_schema=[
            {"key": "extension", "type": "text", "label": f"{label} extension wanted"},
            {"key": "owner", "type": "person", "label": "Owner"},
        ],
    )
    with notifications_muted():
        order_ticket = catalog.order_place(
            membership=members[Role.REQUESTER],
            item=item,
            answers={"extension": f"{label} 4711", "owner": requester.pk},
        )
    order = Order.objects.for_tenant(tenant).get(ticket=order_ticket)
    return TicketWorld(
        ticket,
        comment,
        note,
        attachment,
        saved_view,
        category,
        SlaWorld(calendar, policy, escalation, clocks),
        CatalogWorld(service, item, order),
    )


@dataclass
class KbWorld:
    """A tenant's published article with two revisions, a reader's feedback
    and a link to the tenant's ticket."""

    article: Article
    revision: Revision
    feedback: Feedback


def build_kb_world(tenant: Tenant, members: dict[str, Membership], ticket: Ticket) -> KbWorld:
    label = tenant.slug.title()
    agent, lead = members[Role.AGENT], members[Role.LEAD]
    fields = kb_services.ArticleFields(
        title=f"{label} toaster recovery guide",
        body=f"{label} unplug the toaster",
        tags=[f"{tenant.slug}-kb"],
        audience="requesters",
    )
    article = kb_services.article_create(actor=agent, fields=fields, source_ticket=ticket)
    article = kb_services.article_update(
        actor=agent,
        article=article,
        fields=kb_services.ArticleFields(
            title=fields.title, body=f"{label} unplug the toaster, then wait", audience="requesters"
        ),
    )
    kb_services.article_submit(actor=agent, article=article)
    article = kb_services.article_review(actor=lead, article=article, publish=True)
    feedback = kb_services.feedback_give(
        reader=members[Role.REQUESTER],
        article=article,
        is_helpful=False,
        comment=f"{label} feedback words",
    )
    revision = Revision.objects.for_tenant(tenant).get(article=article, number=2)
    article.refresh_from_db()
    return KbWorld(article=article, revision=revision, feedback=feedback)


@dataclass
class World:
    """One tenant with a member of every role, a team, a pending invitation
    and an API token of its agent (``api_token.secret`` is the secret)."""

    tenant: Tenant
    members: dict[str, Membership]
    team: Team
    invitation: Invitation
    api_token: ApiToken
    # Built for the foreign world only: our tenant starts without tickets.
    tickets: TicketWorld | None = None
    kb: KbWorld | None = None

    def user(self, role: str) -> User:
        return self.members[role].user


def build_world(slug: str, *, with_tickets: bool = False) -> World:
    tenant = TenantFactory(slug=slug, name=f"{slug.title()} Org")
    members = {
        role: MembershipFactory(
            tenant=tenant, role=role, user=UserFactory(email=f"{role}@{slug}.test")
        )
        for role in ROLES
    }
    team = TeamFactory(tenant=tenant, name=f"{slug.title()} Squad", slug=f"{slug}-squad")
    team.members.add(members[Role.AGENT].user, members[Role.LEAD].user)
    team.lead = members[Role.LEAD].user
    team.save()
    invitation = Invitation.objects.create(
        tenant=tenant, email=f"invitee@{slug}.test", role=Role.AGENT, email_sent_at=timezone.now()
    )
    api_token = ApiTokenFactory(
        tenant=tenant,
        user=members[Role.AGENT].user,
        name=f"{slug.title()} Monitoring",
        scopes=["tickets:read", "tickets:write"],
        created_by=members[Role.ADMIN].user,
    )
    tickets = build_ticket_world(tenant, members, team, first_number=7001) if with_tickets else None
    return World(
        tenant=tenant,
        members=members,
        team=team,
        invitation=invitation,
        api_token=api_token,
        tickets=tickets,
        kb=build_kb_world(tenant, members, tickets.ticket) if tickets else None,
    )


@dataclass(frozen=True)
class WorldSnapshot:
    """What building a world wrote: its rows (JSON, per table), its files
    and its objects (pickled)."""

    rows: list[tuple[str, str]]
    files: list[tuple[str, bytes]]
    world: bytes


def model_tables() -> list[tuple[str, str]]:
    """(table, primary key column) of every table the models own."""
    tables: dict[str, str] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy:
            tables.setdefault(meta.db_table, meta.pk.column)
    return sorted(tables.items())


# Table names below are the models' own, quoted; nothing comes from input.


def table_json(cursor, table: str) -> str | None:
    """A table's rows as one JSON array (``None``: no rows)."""
    quoted = connection.ops.quote_name(table)
    cursor.execute(f"SELECT json_agg(t)::text FROM {quoted} t")  # noqa: S608
    return cursor.fetchone()[0]


def insert_json(cursor, table: str, rows: str) -> None:
    """Insert rows given as ``table_json`` gave them, keys and all."""
    quoted = connection.ops.quote_name(table)
    cursor.execute(
        f"INSERT INTO {quoted} SELECT * FROM json_populate_recordset(NULL::{quoted}, %s)",  # noqa: S608
        [rows],
    )


def _rows_by_key(cursor, table: str, pk: str) -> dict[str, dict]:
    return {str(row[pk]): row for row in json.loads(table_json(cursor, table) or "[]")}


def snapshot_world(build: Callable[[], World]) -> WorldSnapshot:
    """Build a world in a transaction that is rolled back, keeping what it
    wrote: the rows it inserted, the files it stored and its objects."""
    tables = model_tables()
    set_current_tenant(None)  # the tenant policies let everything through
    with transaction.atomic(), connection.cursor() as cursor:
        before = {table: _rows_by_key(cursor, table, pk) for table, pk in tables}
        world = build()
        rows = []
        for table, pk in tables:
            after = _rows_by_key(cursor, table, pk)
            # Inserted rows are all a snapshot can put back.
            changed = [key for key, row in before[table].items() if after.get(key) != row]
            if changed:
                raise AssertionError(
                    f"building a world changed rows it did not make: {table} {changed}"
                )
            new = [row for key, row in after.items() if key not in before[table]]
            if new:
                rows.append((table, json.dumps(new)))
        files = []
        if world.tickets is not None:
            name = world.tickets.attachment.file.name
            with default_storage.open(name, "rb") as file:
                files.append((name, file.read()))
        transaction.set_rollback(True)
    return WorldSnapshot(rows=rows, files=files, world=pickle.dumps(world))


def restore_world(snapshot: WorldSnapshot) -> World:
    """Insert a snapshot's rows in the current transaction; a fresh copy of
    its objects. Its keys were drawn from the sequences when it was built,
    so no row made later collides with them."""
    set_current_tenant(None)
    # Foreign keys are DEFERRABLE INITIALLY DEFERRED (Django's way on
    # PostgreSQL), so the tables may be filled in any order.
    with transaction.atomic(), connection.cursor() as cursor:
        for table, rows in snapshot.rows:
            insert_json(cursor, table, rows)
    for name, content in snapshot.files:
        # A test may have pointed MEDIA_ROOT somewhere new.
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(content, name))
    return pickle.loads(snapshot.world)  # noqa: S301 - our own bytes, from this process


@pytest.fixture(scope="session")
def world_snapshots(django_db_setup, django_db_blocker) -> dict[str, WorldSnapshot]:
    """Both worlds, built once per test process; as a session fixture it is
    set up before the first test's own fixtures (settings, a frozen clock)."""
    with django_db_blocker.unblock():
        return {
            "ours": snapshot_world(lambda: build_world("ours")),
            "theirs": snapshot_world(lambda: build_world("theirs", with_tickets=True)),
        }


def _world_for(snapshot: WorldSnapshot, build: Callable[[], World]) -> World:
    # A transactional test (its own commits, on-commit work that really
    # runs) builds its world the long way, as the code under test would.
    if not connection.in_atomic_block:
        return build()
    return restore_world(snapshot)


@pytest.fixture
def world(db, world_snapshots) -> World:
    return _world_for(world_snapshots["ours"], lambda: build_world("ours"))


@pytest.fixture
def foreign(db, world_snapshots) -> World:
    return _world_for(world_snapshots["theirs"], lambda: build_world("theirs", with_tickets=True))


@pytest.fixture
def freeze(monkeypatch) -> Callable[[datetime], datetime]:
    """``freeze(moment)`` makes ``timezone.now()`` answer ``moment`` from then
    on (services, selectors and views), for tests whose meaning depends on
    what time it is."""

    def at(moment: datetime) -> datetime:
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return at


@pytest.fixture(autouse=True)
def _empty_redis(request) -> Iterator[None]:
    """A test marked ``redis`` starts and ends with its worker's Redis
    database empty: no task or key another run left behind reaches it."""
    if request.node.get_closest_marker("redis") is None:
        yield
        return
    server = redis.Redis.from_url(settings.TEST_REDIS_URL)
    server.flushdb()
    yield
    server.flushdb()
    server.close()


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def login():
    return client_for
