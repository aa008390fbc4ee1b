"""The demo SLAs `seed_demo` sets up: a business-hours calendar with the
country's public holidays, policies by priority with their escalations,
clocks in every state on the seeded tickets, nobody mailed, and never twice."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from servicedesk.models import Membership, Role, Tenant
from servicedesk.rls import tenant_context
from slo import demo_data, services
from slo.models import (
    Calendar,
    Clock,
    ClockState,
    Escalation,
    EscalationAction,
    EscalationRun,
    Policy,
    Trigger,
)
from slo.selectors import breaching_soon_ids
from tickets.demo.seed import seed_tickets
from tickets.models import OPEN_STATUSES, Notification, Ticket, TicketCounter, TicketEvent

pytestmark = pytest.mark.django_db

COUNT = 60


def seed_demo(tickets: int) -> str:
    out = io.StringIO()
    call_command("seed_demo", tickets=tickets, stdout=out)
    return out.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="class")
def seeded_acme(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo tenants with their SLAs, and acme's history settled as
    `seed_demo` settles it: seeded once for a class of read-only tests."""
    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media),
        transaction.atomic(),
    ):
        seed_demo(0)
        tenant = Tenant.objects.get(slug="acme")
        assert seed_tickets(tenant, count=COUNT) == COUNT
        demo_data.settle_clocks(tenant)
        yield tenant.pk
        transaction.set_rollback(True)


@pytest.fixture
def acme(seeded_acme, db) -> Tenant:
    return Tenant.objects.get(pk=seeded_acme)


class TestPublicHolidays:
    def test_the_zone_names_the_country(self):
        assert demo_data.country_of_zone("Europe/Berlin") == "DE"
        assert demo_data.country_of_zone("America/New_York") == "US"
        assert demo_data.country_of_zone("UTC") is None

    def test_holidays_of_each_year_asked_for(self):
        found = demo_data.public_holidays("Europe/Berlin", range(2026, 2028))
        days = {entry["date"]: entry for entry in found}
        assert days["2026-10-03"] == {
            "date": "2026-10-03",
            "recurring": False,
            "name": "German Unity Day",
        }
        assert {"2026-12-25", "2027-12-25", "2027-03-26"} <= set(days)  # Good Friday 2027
        assert {date.fromisoformat(d).year for d in days} == {2026, 2027}
        assert "2026-07-04" in {
            e["date"] for e in demo_data.public_holidays("America/New_York", range(2026, 2027))
        }

    def test_a_zone_without_a_country_has_none(self):
        assert demo_data.public_holidays("UTC", range(2026, 2028)) == []


class TestSeededSla:
    def test_a_business_hours_calendar_with_this_and_next_years_holidays(self, acme):
        globex = Tenant.objects.get(slug="globex")
        this_year = timezone.now().year
        for tenant, holiday in ((acme, "12-25"), (globex, "07-04")):
            calendar = Calendar.objects.for_tenant(tenant).get()
            assert calendar.name == "Business hours"
            assert calendar.timezone == tenant.timezone
            assert calendar.hours["mon"] == [["09:00", "17:00"]]
            assert calendar.hours["sat"] == calendar.hours["sun"] == []
            days = {entry["date"] for entry in calendar.holidays}
            assert f"{this_year}-{holiday}" in days
            assert f"{this_year + 1}-{holiday}" in days
        # The zone decides the country: Germany's unity day is no holiday in New York.
        globex_days = {e["date"] for e in Calendar.objects.for_tenant(globex).get().holidays}
        assert f"{this_year}-10-03" not in globex_days

    def test_policies_by_priority(self, acme):
        calendar = Calendar.objects.for_tenant(acme).get()
        policies = list(Policy.objects.for_tenant(acme).order_by("position"))
        shape = [
            (
                p.priorities,
                p.calendar_id,
                p.first_response_minutes,
                p.next_response_minutes,
                p.resolution_minutes,
            )
            for p in policies
        ]
        assert shape == [
            ([1], None, 15, None, 4 * 60),
            ([2], None, 30, None, 8 * 60),
            ([3], calendar.pk, 8 * 60, 4 * 60, 5 * 8 * 60),
            ([4, 5], calendar.pk, 16 * 60, None, 10 * 8 * 60),
        ]
        assert all(p.kinds == ["incident", "request"] and p.is_active for p in policies)

    def test_escalations(self, acme):
        rows = {
            (e.policy.priorities[0], e.trigger, e.action): sorted(u.email for u in e.users.all())
            for e in Escalation.objects.for_tenant(acme).select_related("policy")
        }
        leads_and_admins = sorted(
            Membership.objects.for_tenant(acme)
            .filter(role__in=[Role.LEAD, Role.ADMIN])
            .values_list("user__email", flat=True)
        )
        assert leads_and_admins == ["admin@acme.example", "lead@acme.example"]
        assert rows == {
            (1, Trigger.WARNING, EscalationAction.NOTIFY_TEAM_LEAD): [],
            (1, Trigger.BREACH, EscalationAction.NOTIFY_USERS): leads_and_admins,
            (2, Trigger.WARNING, EscalationAction.NOTIFY_TEAM_LEAD): [],
            (3, Trigger.BREACH, EscalationAction.NOTIFY_TEAM_LEAD): [],
        }

    def test_the_seeded_tickets_have_clocks_in_every_state(self, acme):
        clocks = Clock.objects.for_tenant(acme)
        states = Counter(clocks.values_list("state", flat=True))
        assert {ClockState.RUNNING, ClockState.MET, ClockState.BREACHED} <= set(states)
        assert states[ClockState.MET] > states[ClockState.BREACHED]
        # Late while still open, and late but done: both kinds of breach.
        breached = clocks.filter(state=ClockState.BREACHED)
        assert breached.filter(stopped_at=None, ticket__status__in=OPEN_STATUSES).exists()
        assert breached.exclude(stopped_at=None).exists()
        # The "Breaching soon" queue has work in it.
        assert breaching_soon_ids(tenant=acme).filter(ticket__status__in=OPEN_STATUSES).exists()
        # Incidents and requests have clocks; problems and changes none.
        with_clocks = set(clocks.values_list("ticket_id", flat=True))
        promised = Ticket.objects.for_tenant(acme).filter(kind__in=["incident", "request"])
        assert with_clocks == set(promised.values_list("pk", flat=True))

    def test_the_history_is_settled_without_mailing_anybody(self, acme):
        now = timezone.now()
        # What the history reached is marked: the sweeper has nothing to catch up on.
        assert not Clock.objects.for_tenant(acme).filter(sweep_at__lte=now).exists()
        runs = EscalationRun.objects.for_tenant(acme)
        assert runs.exists()
        assert not runs.filter(done_at=None).exists()
        assert not Notification.objects.unscoped().exists()
        events = TicketEvent.objects.for_tenant(acme).filter(action="sla")
        assert events.filter(new_value="breached").exists()
        assert events.filter(new_value="escalated").exists()
        assert not events.filter(created_at__gt=now).exists()


def snapshot() -> dict[str, Any]:
    return {
        "calendars": list(Calendar.objects.unscoped().order_by("pk").values()),
        "policies": list(Policy.objects.unscoped().order_by("pk").values()),
        "escalations": list(Escalation.objects.unscoped().order_by("pk").values()),
        "clocks": list(Clock.objects.unscoped().order_by("pk").values()),
        "runs": list(EscalationRun.objects.unscoped().order_by("pk").values()),
        "events": TicketEvent.objects.unscoped().count(),
    }


def test_seed_demo_twice_changes_nothing(media):
    seed_demo(25)
    first = snapshot()
    assert len(first["calendars"]) == 2
    assert len(first["policies"]) == 8
    assert first["clocks"]
    seed_demo(25)
    assert snapshot() == first
    assert not Notification.objects.unscoped().exists()


def sla_history(tenant: Tenant) -> dict[str, Any]:
    """The tenant's clocks, the SLA's entries in the log and the escalation
    runs, by ticket key and policy name rather than by id."""
    keys = dict(Ticket.objects.for_tenant(tenant).values_list("pk", "number"))
    kinds = dict(Ticket.objects.for_tenant(tenant).values_list("pk", "kind"))
    policies = dict(Policy.objects.for_tenant(tenant).values_list("pk", "name"))

    def key(ticket_id: int) -> tuple[str, int]:
        return kinds[ticket_id], keys[ticket_id]

    ids = {"id", "tenant_id", "ticket_id", "policy_id", "event_id"}
    clocks = {
        (key(row["ticket_id"]), row["target"]): {
            **{name: value for name, value in row.items() if name not in ids},
            "policy": policies.get(row["policy_id"]),
        }
        for row in Clock.objects.for_tenant(tenant).values()
    }
    entries = Counter(
        (key(ticket_id), *rest)
        for ticket_id, *rest in TicketEvent.objects.for_tenant(tenant)
        .filter(action="sla")
        .values_list("ticket_id", "created_at", "field", "old_value", "new_value", "note")
    )
    runs = Counter(
        (key(run.clock.ticket_id), run.clock.target, run.cycle, run.trigger, run.fired_at)
        for run in EscalationRun.objects.for_tenant(tenant).select_related("clock")
    )
    return {"clocks": clocks, "entries": entries, "runs": runs}


def test_the_history_folded_once_has_the_clocks_of_one_synced_event_by_event(media):
    """`seed_demo` adds the policies after the history and folds each
    ticket's log once; the ticket services fold it after every event. Both
    give the same clocks, the same SLA entries at the same moments and the
    same escalations -- and a replay of the log moves none of them."""
    seed_demo(0)  # people, teams and policies, no tickets
    acme = Tenant.objects.get(slug="acme")
    now = timezone.now()
    seed_tickets(acme, count=40, now=now)  # under the policies: synced event by event
    demo_data.settle_clocks(acme, now=now)
    synced = sla_history(acme)
    assert all(synced.values())

    Ticket.objects.for_tenant(acme).delete()
    TicketCounter.objects.for_tenant(acme).delete()
    Policy.objects.for_tenant(acme).delete()
    Calendar.objects.for_tenant(acme).delete()
    seed_tickets(acme, count=40, now=now)  # no policies: no clocks yet
    assert not Clock.objects.for_tenant(acme).exists()
    assert demo_data.seed_sla(acme, now=now) == 4
    assert sla_history(acme) == synced

    with tenant_context(acme.pk):
        _, moved = services.tickets_recompute(tenant_id=acme.pk, now=now)
    assert moved == []
    assert not Notification.objects.unscoped().exists()


def test_policies_added_to_a_seeded_desk_apply_to_its_tickets(media):
    """A demo seeded before it had SLAs gets clocks on its tickets when the
    policies arrive."""
    seed_demo(0)
    acme = Tenant.objects.get(slug="acme")
    Policy.objects.for_tenant(acme).delete()
    Calendar.objects.for_tenant(acme).delete()
    seed_tickets(acme, count=20)
    assert not Clock.objects.for_tenant(acme).exists()

    assert demo_data.seed_sla(acme) == 4
    clocks = Clock.objects.for_tenant(acme)
    assert clocks.exists()
    assert set(clocks.values_list("ticket__kind", flat=True)) <= {"incident", "request"}
    assert not clocks.filter(sweep_at__lte=timezone.now()).exists()
    assert not Notification.objects.unscoped().exists()
    assert demo_data.seed_sla(acme) == 0


def test_policies_replaced_on_a_seeded_desk_replay_its_clocks(media):
    """Clocks that outlived their policies are replayed under the new ones,
    not folded again."""
    seed_demo(0)
    acme = Tenant.objects.get(slug="acme")
    seed_tickets(acme, count=20)
    assert Clock.objects.for_tenant(acme).exists()
    Policy.objects.for_tenant(acme).delete()
    Calendar.objects.for_tenant(acme).delete()

    assert demo_data.seed_sla(acme) == 4
    new_policies = set(Policy.objects.for_tenant(acme).values_list("pk", flat=True))
    clocks = Clock.objects.for_tenant(acme)
    assert set(clocks.values_list("policy_id", flat=True)) <= new_policies
    assert not clocks.filter(sweep_at__lte=timezone.now()).exists()
    with tenant_context(acme.pk):
        _, moved = services.tickets_recompute(tenant_id=acme.pk)
    assert moved == []


def test_a_tenant_without_an_admin_gets_no_sla(media):
    seed_demo(0)
    acme = Tenant.objects.get(slug="acme")
    Policy.objects.for_tenant(acme).delete()
    Calendar.objects.for_tenant(acme).delete()
    Membership.objects.for_tenant(acme).filter(role=Role.ADMIN).update(is_active=False)
    assert demo_data.seed_sla(acme) == 0
    assert not Calendar.objects.for_tenant(acme).exists()
