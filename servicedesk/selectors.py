"""Tenant-scoped reads of the tenancy core.

Every lookup by key happens *inside* the tenant and raises the same 404 for
"missing" and "belongs to someone else".
"""

from __future__ import annotations

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from servicedesk.models import (
    ApiToken,
    AuditEvent,
    Invitation,
    Membership,
    Role,
    Team,
    Tenant,
    User,
)


def memberships_for_user(user: User) -> QuerySet[Membership]:
    """The user's active memberships in active tenants, for the tenant switcher.

    Cross-tenant by nature: it lists the tenants one person may enter.
    """
    return (
        Membership.objects.unscoped()
        .filter(user=user, is_active=True, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__name")
    )


def member_list(
    *, tenant: Tenant, search: str = "", role: str = "", status: str = ""
) -> QuerySet[Membership]:
    """Members of the tenant with their user and the tenant's teams they are in.

    ``search`` matches e-mail or name (case-insensitive substring), ``role``
    one role, ``status`` ``active`` or ``inactive``; empty means any.
    """
    members = Membership.objects.for_tenant(tenant)
    if search:
        members = members.filter(
            Q(user__email__icontains=search) | Q(user__full_name__icontains=search)
        )
    if role:
        members = members.filter(role=role)
    if status:
        members = members.filter(is_active=status == "active")
    return (
        members.select_related("user")
        .prefetch_related(
            Prefetch(
                "user__teams", queryset=Team.objects.for_tenant(tenant), to_attr="tenant_teams"
            )
        )
        .order_by("-is_active", "user__email", "pk")
    )


def member_counts(*, tenant: Tenant) -> dict[str, int]:
    """Active members per role, plus ``inactive``, in one query."""
    aggregates = {role: Count("id", filter=Q(role=role, is_active=True)) for role in Role.values}
    aggregates["inactive"] = Count("id", filter=Q(is_active=False))
    return Membership.objects.for_tenant(tenant).aggregate(**aggregates)


def get_membership(*, tenant: Tenant, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.for_tenant(tenant).select_related("user"), pk=membership_id
    )


def active_member_users(*, tenant: Tenant) -> QuerySet[User]:
    """Active users with an active membership in the tenant, by e-mail."""
    active = Membership.objects.for_tenant(tenant).filter(is_active=True)
    return User.objects.filter(pk__in=active.values("user_id"), is_active=True).order_by("email")


def staff_users(*, tenant: Tenant) -> QuerySet[User]:
    """Active agents, leads and admins of the tenant: who may join a team."""
    staff = Membership.objects.for_tenant(tenant).filter(
        is_active=True, role__in=[Role.AGENT, Role.LEAD, Role.ADMIN]
    )
    return User.objects.filter(pk__in=staff.values("user_id")).order_by("email")


def team_list(*, tenant: Tenant) -> QuerySet[Team]:
    return (
        Team.objects.for_tenant(tenant)
        .select_related("lead")
        .annotate(member_count=Count("members", distinct=True))
        .order_by("name")
    )


def teams_with_members(*, tenant: Tenant) -> QuerySet[Team]:
    return team_list(tenant=tenant).prefetch_related(
        Prefetch("members", queryset=User.objects.order_by("email"))
    )


def get_team(*, tenant: Tenant, slug: str) -> Team:
    return get_object_or_404(
        Team.objects.for_tenant(tenant)
        .select_related("lead")
        .prefetch_related(Prefetch("members", queryset=User.objects.order_by("email"))),
        slug=slug,
    )


def teams_of_user(*, tenant: Tenant, user: User) -> QuerySet[Team]:
    return Team.objects.for_tenant(tenant).filter(members=user).order_by("name")


def pending_invitations(*, tenant: Tenant) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_tenant(tenant)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .order_by("-created_at")
    )


def get_invitation(*, tenant: Tenant, invitation_id: int) -> Invitation:
    return get_object_or_404(Invitation.objects.for_tenant(tenant), pk=invitation_id)


def recent_audit_events(*, tenant: Tenant, limit: int = 20) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.for_tenant(tenant)
        .select_related("actor")
        .order_by("-created_at")[:limit]
    )


def api_token_list(*, tenant: Tenant) -> QuerySet[ApiToken]:
    """The tenant's API tokens, newest first, with owner and issuer: usable
    ones on top, revoked ones after them for the record."""
    return (
        ApiToken.objects.for_tenant(tenant)
        .select_related("user", "created_by")
        .order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-pk")
    )


def get_api_token(*, tenant: Tenant, token_id: int) -> ApiToken:
    return get_object_or_404(
        ApiToken.objects.for_tenant(tenant).select_related("user"), pk=token_id
    )
