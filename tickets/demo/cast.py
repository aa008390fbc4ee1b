"""The tenant's people and teams as the story casts them: who files,
who works which team's tickets, who may grant and override."""

from __future__ import annotations

from dataclasses import dataclass

from servicedesk.models import Membership, Role, Team, Tenant
from tickets.demo.corpus import SERVICE_DESK

# How likely each role is to pick up a ticket of their team.
ASSIGN_WEIGHT: dict[str, float] = {Role.AGENT: 3.0, Role.LEAD: 1.0, Role.ADMIN: 0.3}


@dataclass
class Cast:
    """The tenant's people and teams, as the story needs them."""

    requesters: list[Membership]
    staff: list[Membership]
    leads: list[Membership]  # leads and admins: they grant access and override priorities
    teams: dict[str, Team]
    team_staff: dict[str, list[Membership]]

    @classmethod
    def of(cls, tenant: Tenant) -> Cast | None:
        members = list(
            Membership.objects.for_tenant(tenant)
            .filter(is_active=True, user__is_active=True)
            .select_related("user")
            .order_by("pk")
        )
        requesters = [m for m in members if m.role == Role.REQUESTER]
        staff = [m for m in members if m.role != Role.REQUESTER]
        if not requesters or not staff:
            return None
        by_user = {m.user_id: m for m in staff}
        teams = {team.slug: team for team in Team.objects.for_tenant(tenant).order_by("pk")}
        team_staff = {
            slug: [
                by_user[pk]
                for pk in team.members.order_by("pk").values_list("pk", flat=True)
                if pk in by_user
            ]
            for slug, team in teams.items()
        }
        return cls(
            requesters=requesters,
            staff=staff,
            leads=[m for m in staff if Role.rank(m.role) >= Role.rank(Role.LEAD)],
            teams=teams,
            team_staff=team_staff,
        )

    def team(self, slug: str) -> Team | None:
        """The team of that name, else the first line, else any team."""
        found = self.teams.get(slug) or self.teams.get(SERVICE_DESK)
        return found or next(iter(self.teams.values()), None)

    def staff_of(self, team: Team | None) -> list[Membership]:
        members = self.team_staff.get(team.slug, []) if team is not None else []
        return members or self.staff


def first_name(member: Membership) -> str:
    name = member.user.full_name or member.user.email.split("@")[0]
    return name.split()[0]
