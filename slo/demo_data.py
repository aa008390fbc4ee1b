"""Demo SLAs: a desk that has set up its service levels.

``seed_sla(tenant)`` gives a demo tenant, through ``slo.services`` and as
its admin:

- a "Business hours" calendar, Monday to Friday 09:00–17:00 in the tenant's
  time zone, with the public holidays of the zone's country (from the
  ``holidays`` library) for the years the demo history and the next year
  cover;
- four policies for incidents and requests, by priority: P1 and P2 around
  the clock (the built-in 24×7 calendar), P3 and P4–P5 in business hours;
- their escalations: a warning on P1 or P2 tells the team lead, a P1 breach
  the tenant's leads and admins by name, a P3 breach the team lead.

``seed_demo`` calls it after it filed the demo tickets: the policies arrive
on a desk with ninety days of history, and ``fold_history`` folds each
ticket's whole log into its clocks in one pass -- the same fold the ticket
services run event by event (``slo.services.clocks_sync``), once per ticket
instead of once per event, so the clocks and their entries in the log are
the ones the ticket would have had with the policies in place all along.
``settle_clocks`` then does what the sweeper would have done meanwhile --
mark the warnings and breaches the history reached and carry out their
escalations -- with nobody mailed about the past.

Safe to run again: a calendar or policy that exists (by name) is left as it
is, escalations included. Deterministic: the holidays follow from the zone
and the date.
"""

from __future__ import annotations

import functools
import importlib.resources
import zoneinfo
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from servicedesk.models import Membership, Role, Tenant, User
from servicedesk.registry import DemoSeed
from servicedesk.rls import tenant_context
from slo import escalations, services, subscribers
from slo.models import Calendar, Clock, EscalationAction, EscalationRun, Policy, Trigger
from slo.rules import tenant_rules
from tickets import services as ticket_services
from tickets.demo import HISTORY_DAYS
from tickets.models import Priority, Ticket, TicketKind

CALENDAR_NAME = "Business hours"
BUSINESS_HOURS = {
    "mon": [["09:00", "17:00"]],
    "tue": [["09:00", "17:00"]],
    "wed": [["09:00", "17:00"]],
    "thu": [["09:00", "17:00"]],
    "fri": [["09:00", "17:00"]],
    "sat": [],
    "sun": [],
}
# Problems and changes are planned work with dates of their own, not
# promises to a requester.
SLA_KINDS = [TicketKind.INCIDENT.value, TicketKind.REQUEST.value]
BUSINESS_DAY = 8 * 60  # minutes of the calendar above


@dataclass(frozen=True)
class PolicySpec:
    name: str
    priorities: tuple[int, ...]
    business_hours: bool  # else the built-in 24×7 calendar
    first_response_minutes: int
    resolution_minutes: int
    next_response_minutes: int | None = None
    escalations: tuple[tuple[str, str], ...] = ()  # (trigger, action)


POLICIES = (
    PolicySpec(
        "P1 Critical, around the clock",
        (Priority.CRITICAL,),
        business_hours=False,
        first_response_minutes=15,
        resolution_minutes=4 * 60,
        # Raising the priority is no escalation at P1: people are told by name.
        escalations=(
            (Trigger.WARNING, EscalationAction.NOTIFY_TEAM_LEAD),
            (Trigger.BREACH, EscalationAction.NOTIFY_USERS),
        ),
    ),
    PolicySpec(
        "P2 High, around the clock",
        (Priority.HIGH,),
        business_hours=False,
        first_response_minutes=30,
        resolution_minutes=8 * 60,
        escalations=((Trigger.WARNING, EscalationAction.NOTIFY_TEAM_LEAD),),
    ),
    PolicySpec(
        "P3 Moderate, business hours",
        (Priority.MODERATE,),
        business_hours=True,
        first_response_minutes=BUSINESS_DAY,
        resolution_minutes=5 * BUSINESS_DAY,
        next_response_minutes=4 * 60,
        escalations=((Trigger.BREACH, EscalationAction.NOTIFY_TEAM_LEAD),),
    ),
    PolicySpec(
        "P4–P5 Low, business hours",
        (Priority.LOW, Priority.PLANNING),
        business_hours=True,
        first_response_minutes=2 * BUSINESS_DAY,
        resolution_minutes=10 * BUSINESS_DAY,
    ),
)


# --- Public holidays ---------------------------------------------------------------------------


@functools.cache
def _zone_countries() -> dict[str, str]:
    """Time zone → ISO 3166 country code, from the tz database's
    ``zone.tab`` (found where ``zoneinfo`` finds the zones: the system's
    TZPATH, then the ``tzdata`` package). Empty if there is none."""
    for directory in zoneinfo.TZPATH:
        table = Path(directory) / "zone.tab"
        if table.is_file():
            return _parse_zone_tab(table.read_text(encoding="utf-8"))
    try:
        table_text = (
            importlib.resources.files("tzdata")
            .joinpath("zoneinfo", "zone.tab")
            .read_text(encoding="utf-8")
        )
    except (ModuleNotFoundError, FileNotFoundError):
        return {}
    return _parse_zone_tab(table_text)


def _parse_zone_tab(text: str) -> dict[str, str]:
    # Lines: country code, coordinates, zone name, comment; tab-separated.
    countries = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if line.startswith("#") or len(fields) < 3:
            continue
        countries[fields[2]] = fields[0]
    return countries


def country_of_zone(zone: str) -> str | None:
    """The country whose public holidays a calendar in ``zone`` observes:
    Europe/Berlin → DE, America/New_York → US; none for UTC and the like."""
    return _zone_countries().get(zone)


def public_holidays(zone: str, years: range) -> list[dict[str, Any]]:
    """The national public holidays of the zone's country in ``years``, in
    a calendar's data form; none when the country is unknown or the
    ``holidays`` library does not cover it."""
    country = country_of_zone(zone)
    if country is None:
        return []
    # Imported here: the library is large, and only a seed asks it anything.
    import holidays

    try:
        found = holidays.country_holidays(country, years=list(years))
    except NotImplementedError:
        return []
    return [
        # Two holidays on one day come as one name joined by "; ".
        {"date": day.isoformat(), "recurring": False, "name": name[:100]}
        for day, name in sorted(found.items())
    ]


# --- Seeding -----------------------------------------------------------------------------------


def _admin(tenant: Tenant) -> Membership | None:
    return (
        Membership.objects.for_tenant(tenant)
        .filter(role=Role.ADMIN, is_active=True, user__is_active=True)
        .select_related("user", "tenant")
        .order_by("pk")
        .first()
    )


def _leads_and_admins(tenant: Tenant) -> list[User]:
    return [
        membership.user
        for membership in Membership.objects.for_tenant(tenant)
        .filter(role__in=[Role.LEAD, Role.ADMIN], is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    ]


def _calendar(tenant: Tenant, admin: Membership, now: datetime) -> Calendar:
    existing = Calendar.objects.for_tenant(tenant).filter(name=CALENDAR_NAME).first()
    if existing is not None:
        return existing
    zone = tenant.timezone or "UTC"
    # The history reaches back HISTORY_DAYS; the clocks it leaves run on
    # into next year.
    first_year = (now - timedelta(days=HISTORY_DAYS)).astimezone(zoneinfo.ZoneInfo(zone)).year
    years = range(first_year, now.astimezone(zoneinfo.ZoneInfo(zone)).year + 2)
    return services.calendar_create(
        actor=admin,
        name=CALENDAR_NAME,
        timezone_name=zone,
        hours=BUSINESS_HOURS,
        holidays=public_holidays(zone, years),
    )


def seed_sla(tenant: Tenant, *, now: datetime | None = None) -> int:
    """Give ``tenant`` the demo calendar, policies and escalations; the
    number of policies created. Nothing happens without an active admin.

    Policies added to a tenant that has tickets (the history ``seed_demo``
    just filed, or a demo seeded before SLAs existed) apply to that history
    at once: ``fold_history``, then ``settle_clocks``."""
    now = now or timezone.now()
    admin = _admin(tenant)
    if admin is None:
        return 0
    with tenant_context(tenant.pk), transaction.atomic():
        calendar = _calendar(tenant, admin, now)
        existing = set(Policy.objects.for_tenant(tenant).values_list("name", flat=True))
        created = 0
        for spec in POLICIES:
            if spec.name in existing:
                continue
            policy = services.policy_create(
                actor=admin,
                name=spec.name,
                kinds=SLA_KINDS,
                priorities=[int(p) for p in spec.priorities],
                calendar=calendar if spec.business_hours else None,
                first_response_minutes=spec.first_response_minutes,
                next_response_minutes=spec.next_response_minutes,
                resolution_minutes=spec.resolution_minutes,
            )
            for trigger, action in spec.escalations:
                people = (
                    _leads_and_admins(tenant) if action == EscalationAction.NOTIFY_USERS else []
                )
                services.escalation_create(
                    actor=admin, policy=policy, trigger=trigger, action=action, users=people
                )
            created += 1
    if created and Ticket.objects.for_tenant(tenant).exists():
        fold_history(tenant, now=now)
        settle_clocks(tenant, now=now)
    return created


def fold_history(tenant: Tenant, *, now: datetime | None = None) -> int:
    """Give each ticket the clocks its log earns under the tenant's
    policies; the number of tickets looked at.

    A ticket without clocks gets its whole log folded in one pass by
    ``clocks_sync`` -- the fold the ticket services run after every event,
    so the clocks and their started/paused/met entries, at the moments
    they happened, are what syncing event by event would have written. A
    ticket with clocks already (policies replaced on a seeded desk) is
    replayed, as the admin's recompute does. One transaction; each ticket
    is locked as the ticket services lock it."""
    now = now or timezone.now()
    with tenant_context(tenant.pk), transaction.atomic():
        rules = tenant_rules(tenant.pk)
        if not rules:
            return 0
        clocked = set(Clock.objects.for_tenant(tenant).values_list("ticket_id", flat=True))
        tickets = list(Ticket.objects.for_tenant(tenant).select_for_update().order_by("pk"))
        for ticket in tickets:
            if ticket.pk in clocked:
                services.clocks_recompute(ticket=ticket, now=now, rules=rules)
            else:
                services.clocks_sync(ticket=ticket, rules=rules)
        return len(tickets)


def settle_clocks(tenant: Tenant, *, now: datetime | None = None) -> int:
    """What the sweeper would have done while the demo history happened:
    mark the warnings and breaches it reached and carry out the tenant's
    escalations, with notifications muted (nobody is mailed about the
    past). The number of escalations carried out.

    On PostgreSQL the tenant's row-level wall keeps the sweep to its
    clocks; on SQLite it marks other tenants' due clocks too, exactly as
    the next sweep would, and leaves their escalations to that sweep."""
    now = now or timezone.now()
    with tenant_context(tenant.pk), ticket_services.notifications_muted():
        # A swept clock's next look is after ``now`` (or never): this ends.
        while services.clocks_sweep(now=now).clocks:
            pass
        pending = list(
            EscalationRun.objects.for_tenant(tenant)
            .filter(done_at=None)
            .order_by("fired_at", "pk")
            .values_list("pk", flat=True)
        )
        return sum(
            escalations.escalation_run(run_id=run_id, tenant_id=tenant.pk, now=now)
            for run_id in pending
        )


def seed_demo_sla(seed: DemoSeed) -> int:
    """The demo seeder (``servicedesk.registry``), after the tickets: the
    calendar and policies, applied to the history just filed; the number
    of policies created.

    A history filed under policies that existed already (a tenant seeded
    with ``--tickets 0`` first) got its clocks as it was played; the
    sweeper's work on it is still to do."""
    created = seed_sla(seed.tenant)
    if not created and seed.filed.get("tickets"):
        # The policies were there, but the history was filed with the
        # clocks held (``hold_clocks``): fold it now, then sweep.
        fold_history(seed.tenant)
        settle_clocks(seed.tenant)
    return created


def hold_clocks(seed: DemoSeed) -> AbstractContextManager[None]:
    """While the demo tenant is seeded, ticket changes leave the clocks
    alone; ``seed_demo_sla`` folds each ticket's log once at the end."""
    return subscribers.clocks_held()
