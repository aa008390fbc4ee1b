"""Seed the demo tenants, people and teams. Safe to run any number of times."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from servicedesk.models import Membership, Role, Team, Tenant, User

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


class Command(BaseCommand):
    help = "Create (or refresh) the demo tenants acme and globex with people and teams."

    def _user(self, email: str, full_name: str) -> User:
        user, _ = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
        user.full_name = full_name
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        return user

    def _member(self, tenant: Tenant, user: User, role: str) -> None:
        Membership.objects.for_tenant(tenant).update_or_create(
            tenant=tenant, user=user, defaults={"role": role, "is_active": True}
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        multi = self._user(MULTI_EMAIL, "Morgan Multi")
        for slug, name, zone in TENANTS:
            tenant, _ = Tenant.objects.update_or_create(
                slug=slug, defaults={"name": name, "timezone": zone, "is_active": True}
            )
            people: dict[str, User] = {}
            for local, role, names in PEOPLE:
                user = self._user(f"{local}@{slug}.example", names[slug])
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

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Every demo account's password: {DEMO_PASSWORD}")
        for slug, name, _zone in TENANTS:
            accounts = ", ".join(
                f"{local}@{slug}.example ({role.label})" for local, role, _ in PEOPLE
            )
            self.stdout.write(f"  {name} (/t/{slug}/): {accounts}")
        self.stdout.write(f"  Both tenants: {MULTI_EMAIL} (Agent)")
