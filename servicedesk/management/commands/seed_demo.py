"""Seed the demo tenants, people and teams, then let every app that
registered a demo seeder (``servicedesk.registry``) add its part: SLA
policies, a few hundred tickets of history, and so on.

Safe to run any number of times: people and teams are refreshed, and each
seeder leaves alone what it made before.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from servicedesk import services
from servicedesk.models import Membership, Role, Team, Tenant, User
from servicedesk.registry import DemoSeed, demo_seeders

DEFAULT_TICKETS = 300

DEMO_PASSWORD = "demo-password"  # noqa: S105 - demo data only, printed to the operator

TENANTS = [
    ("acme", "Acme Corporation", "Europe/Berlin"),
    ("globex", "Globex Inc.", "America/New_York"),
]

# (local part, role, full name per tenant)
PEOPLE = [
    ("admin", Role.ADMIN, {"acme": "Ada Admin", "globex": "Gus Admin"}),
    ("lead", Role.LEAD, {"acme": "Lena Lead", "globex": "Leo Lead"}),
    ("agent", Role.AGENT, {"acme": "Arno Agent", "globex": "Gina Agent"}),
    ("agent2", Role.AGENT, {"acme": "Aiko Agent", "globex": "Gabe Agent"}),
    ("user", Role.REQUESTER, {"acme": "Uma User", "globex": "Gil User"}),
    ("user2", Role.REQUESTER, {"acme": "Ulf User", "globex": "Greta User"}),
]

MULTI_EMAIL = "multi@example.com"

TEAMS = [
    (
        "service-desk",
        "Service Desk",
        "First line: takes every new request and incident.",
        ["lead", "agent", "agent2"],
    ),
    (
        "platform",
        "Platform",
        "Servers, networks, identity and the cloud estate.",
        ["lead", "agent2"],
    ),
]


# Teams added the way a tenant admin would (through the services), once.
ADMIN_TEAMS = [
    ("network", "Network", "LAN, Wi-Fi, VPN, DNS and firewalls.", ["agent2", "agent"], None),
    (
        "security",
        "Security",
        "Security incidents, phishing and access reviews. Sees confidential tickets.",
        ["lead", "agent"],
        "lead",
    ),
]

# People who file tickets but never sign in to the demo (no password).
REQUESTERS = {
    "acme": [
        "Jonas Becker",
        "Miriam Schulz",
        "Tobias Wagner",
        "Sofia Hoffmann",
        "Lukas Richter",
        "Hannah Klein",
        "Felix Wolf",
        "Emma Schröder",
        "Noah Neumann",
        "Clara Braun",
    ],
    "globex": [
        "Dana Whitfield",
        "Marcus Reyes",
        "Priya Raman",
        "Tom Kowalski",
        "Jasmine Carter",
        "Ethan Brooks",
        "Olivia Nguyen",
        "Sam Patel",
        "Rachel Stein",
        "Kevin O'Brien",
    ],
}


def email_of(full_name: str, slug: str) -> str:
    local = full_name.lower().replace("ö", "oe").replace("'", "").replace(" ", ".")
    return f"{local}@{slug}.example"


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo tenants acme and globex with people, teams, SLA policies "
        "and a few hundred tickets of history."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tickets",
            type=int,
            default=DEFAULT_TICKETS,
            help=f"Tickets per tenant that has none yet (default {DEFAULT_TICKETS}; 0: none).",
        )

    def _user(self, email: str, full_name: str, password_hash: str) -> User:
        user, _ = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
        user.full_name = full_name
        user.is_active = True
        user.password = password_hash
        user.save()
        return user

    def _member(self, tenant: Tenant, user: User, role: str) -> None:
        Membership.objects.for_tenant(tenant).update_or_create(
            tenant=tenant, user=user, defaults={"role": role, "is_active": True}
        )

    def _requester(self, tenant: Tenant, full_name: str) -> None:
        user, created = User.objects.get_or_create(
            email=email_of(full_name, tenant.slug), defaults={"full_name": full_name}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        Membership.objects.for_tenant(tenant).get_or_create(
            tenant=tenant, user=user, defaults={"role": Role.REQUESTER}
        )

    def _admin_teams(self, tenant: Tenant, people: dict[str, User]) -> None:
        existing = set(Team.objects.for_tenant(tenant).values_list("slug", flat=True))
        admin = people["admin"]
        for slug, name, description, members, lead in ADMIN_TEAMS:
            if slug in existing:
                continue
            team = services.team_create(
                tenant=tenant, actor=admin, name=name, slug=slug, description=description
            )
            for local in members:
                services.team_add_member(actor=admin, team=team, user=people[local])
            if lead:
                services.team_set_lead(actor=admin, team=team, user=people[lead])

    @transaction.atomic
    def _people_and_teams(self) -> None:
        # One hash for every demo account: a slow hash per account per start
        # of `make run` is seconds spent protecting a password printed below.
        password_hash = make_password(DEMO_PASSWORD)
        multi = self._user(MULTI_EMAIL, "Morgan Multi", password_hash)
        for slug, name, zone in TENANTS:
            tenant, _ = Tenant.objects.update_or_create(
                slug=slug, defaults={"name": name, "timezone": zone, "is_active": True}
            )
            people: dict[str, User] = {}
            for local, role, names in PEOPLE:
                user = self._user(f"{local}@{slug}.example", names[slug], password_hash)
                self._member(tenant, user, role)
                people[local] = user
            self._member(tenant, multi, Role.AGENT)
            for team_slug, team_name, description, members in TEAMS:
                team, _ = Team.objects.for_tenant(tenant).update_or_create(
                    tenant=tenant,
                    slug=team_slug,
                    defaults={"name": team_name, "description": description},
                )
                team.members.add(*(people[local] for local in members))
                if team_slug == "service-desk":
                    team.members.add(multi)
                team.lead = people["lead"]
                team.save(update_fields=["lead"])
            for full_name in REQUESTERS.get(slug, []):
                self._requester(tenant, full_name)
            self._admin_teams(tenant, people)

    def handle(self, *args: Any, **options: Any) -> None:
        self._people_and_teams()
        for slug, name, _zone in TENANTS:
            tenant = Tenant.objects.get(slug=slug)
            seed = DemoSeed(tenant=tenant, tickets=options["tickets"], filed={})
            # One transaction per tenant: its demo is whole or absent (an
            # interrupted seed is simply run again), and the seeders' own
            # transactions nest in it instead of each committing. Every
            # seeder runs inside the contexts the seeders asked for.
            with transaction.atomic(), ExitStack() as contexts:
                for seeder in demo_seeders:
                    if seeder.around is not None:
                        contexts.enter_context(seeder.around(seed))
                for seeder in demo_seeders:
                    started = time.monotonic()
                    made = seeder.seed(seed)
                    if made is not None:
                        seed.filed[seeder.name] = made
                    if options["verbosity"] > 1:
                        seconds = time.monotonic() - started
                        self.stdout.write(
                            f"  {name}: {seeder.name} in {seconds:.1f} s ({made or 0})"
                        )

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Every demo account's password: {DEMO_PASSWORD}")
        for slug, name, _zone in TENANTS:
            accounts = ", ".join(
                f"{local}@{slug}.example ({role.label})" for local, role, _ in PEOPLE
            )
            self.stdout.write(f"  {name} (/t/{slug}/): {accounts}")
        self.stdout.write(f"  Both tenants: {MULTI_EMAIL} (Agent)")
