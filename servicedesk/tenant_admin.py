"""The tenant admin area (``/t/<slug>/admin/``): members, invitations, teams,
API tokens.

Not Django's admin: that one is for platform operators. Every view reads
through ``request.tenant`` and writes through ``servicedesk.services``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicedesk import selectors, services
from servicedesk.access import TenantRequest, tenant_area
from servicedesk.forms import (
    ApiTokenForm,
    InvitationForm,
    MemberFilterForm,
    RoleForm,
    StaffChoiceForm,
    TeamEditForm,
    TeamForm,
    TeamLeadForm,
    TenantSettingsForm,
    error_messages,
    posted,
    submit,
)
from servicedesk.models import Team
from servicedesk.registry import member_panels
from servicedesk.tasks import deliver_invitation, enqueue

MEMBERS_PER_PAGE = 50


def _flash_error(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@require_GET
@tenant_area("admin")
def overview(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    tenant = request.tenant
    return render(
        request,
        "servicedesk/admin/overview.html",
        {
            "counts": selectors.member_counts(tenant=tenant),
            "teams": selectors.team_list(tenant=tenant),
            "invitations": selectors.pending_invitations(tenant=tenant),
            "events": selectors.recent_audit_events(tenant=tenant),
        },
    )


@require_http_methods(["GET", "POST"])
@tenant_area("admin")
def tenant_settings(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    tenant = request.tenant
    form = TenantSettingsForm(
        posted(request), initial={"name": tenant.name, "timezone": tenant.timezone}
    )
    if request.method == "POST":
        saved = submit(
            form,
            lambda data: services.tenant_update(
                actor=request.user, tenant=tenant, name=data["name"], timezone_name=data["timezone"]
            ),
        )
        if saved:
            messages.success(request, "Organisation settings saved.")
            return redirect("tenant_admin:settings", tenant_slug=tenant_slug)
        return render(request, "servicedesk/admin/settings.html", {"form": form}, status=400)
    return render(request, "servicedesk/admin/settings.html", {"form": form})


@require_http_methods(["GET", "POST"])
@tenant_area("admin")
def members(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    tenant = request.tenant
    form = InvitationForm(posted(request))
    status = 200
    if request.method == "POST":
        invitation = submit(
            form,
            lambda data: services.invitation_create(
                tenant=tenant, actor=request.user, email=data["email"], role=data["role"]
            ),
        )
        if invitation:
            enqueue(deliver_invitation, invitation.pk)
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("tenant_admin:members", tenant_slug=tenant_slug)
        status = 400
    # Own ids: the invitation form on the same page has a "role" field too.
    filters = MemberFilterForm(request.GET, auto_id="filter_%s")
    criteria = filters.cleaned_data if filters.is_valid() else {}
    page = Paginator(
        selectors.member_list(
            tenant=tenant,
            search=criteria.get("q", "").strip(),
            role=criteria.get("role", ""),
            status=criteria.get("status", ""),
        ),
        MEMBERS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "servicedesk/admin/members.html",
        {
            "page": page,
            "filters": filters,
            "filter_query": query.urlencode(),
            "invitations": selectors.pending_invitations(tenant=tenant),
            "form": form,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@tenant_area("admin")
def member_detail(request: TenantRequest, tenant_slug: str, membership_id: int) -> HttpResponse:
    """A member's facts and role, and the cards other apps add to the page
    (``servicedesk.registry.member_panels``: the SLA profile). Each form
    posts here; a panel's names itself in ``form``."""
    membership = selectors.get_membership(tenant=request.tenant, membership_id=membership_id)
    posted_panel = (
        member_panels.get(request.POST.get("form", "")) if request.method == "POST" else None
    )
    form = RoleForm(None if posted_panel else posted(request), initial={"role": membership.role})
    status = 200
    failed: dict[str, dict[str, Any]] = {}
    if posted_panel is not None:
        again, message = posted_panel.handle(request, membership)
        if again is None:
            messages.success(request, message)
            return redirect(
                "tenant_admin:member", tenant_slug=tenant_slug, membership_id=membership.pk
            )
        failed[posted_panel.name] = again
        status = 400
    elif request.method == "POST":
        changed = submit(
            form,
            lambda data: services.membership_change_role(
                actor=request.user, membership=membership, role=data["role"]
            ),
        )
        if changed:
            messages.success(request, f"{changed.user.email} is now {changed.get_role_display()}.")
            return redirect(
                "tenant_admin:member", tenant_slug=tenant_slug, membership_id=membership.pk
            )
        status = 400
    panels = [
        {"template": p.template, "context": failed.get(p.name) or p.context(request, membership)}
        for p in member_panels
    ]
    return render(
        request,
        "servicedesk/admin/member_detail.html",
        {
            "member": membership,
            "form": form,
            "panels": panels,
            "member_teams": selectors.teams_of_user(tenant=request.tenant, user=membership.user),
        },
        status=status,
    )


@require_POST
@tenant_area("admin")
def member_set_active(request: TenantRequest, tenant_slug: str, membership_id: int) -> HttpResponse:
    membership = selectors.get_membership(tenant=request.tenant, membership_id=membership_id)
    activate = request.POST.get("active") == "1"
    try:
        if activate:
            services.membership_reactivate(actor=request.user, membership=membership)
            messages.success(request, f"{membership.user.email} can enter again.")
        else:
            services.membership_deactivate(actor=request.user, membership=membership)
            messages.success(request, f"{membership.user.email} was deactivated.")
    except ValidationError as exc:
        _flash_error(request, exc)
    return redirect("tenant_admin:member", tenant_slug=tenant_slug, membership_id=membership.pk)


@require_POST
@tenant_area("admin")
def invitation_resend(request: TenantRequest, tenant_slug: str, invitation_id: int) -> HttpResponse:
    invitation = selectors.get_invitation(tenant=request.tenant, invitation_id=invitation_id)
    try:
        services.invitation_resend(actor=request.user, invitation=invitation)
    except ValidationError as exc:
        _flash_error(request, exc)
    else:
        enqueue(deliver_invitation, invitation.pk)
        messages.success(request, f"Invitation to {invitation.email} sent again.")
    return redirect("tenant_admin:members", tenant_slug=tenant_slug)


@require_POST
@tenant_area("admin")
def invitation_revoke(request: TenantRequest, tenant_slug: str, invitation_id: int) -> HttpResponse:
    invitation = selectors.get_invitation(tenant=request.tenant, invitation_id=invitation_id)
    try:
        services.invitation_revoke(actor=request.user, invitation=invitation)
    except ValidationError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, f"Invitation of {invitation.email} withdrawn.")
    return redirect("tenant_admin:members", tenant_slug=tenant_slug)


@require_http_methods(["GET", "POST"])
@tenant_area("admin")
def teams(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = TeamForm(posted(request))
    status = 200
    if request.method == "POST":
        team = submit(
            form,
            lambda data: services.team_create(tenant=request.tenant, actor=request.user, **data),
        )
        if team:
            messages.success(request, f"Team {team.name} created.")
            return redirect("tenant_admin:team", tenant_slug=tenant_slug, team_slug=team.slug)
        status = 400
    return render(
        request,
        "servicedesk/admin/teams.html",
        {"teams": selectors.team_list(tenant=request.tenant), "form": form},
        status=status,
    )


def _team_page(
    request: TenantRequest, team: Team, *, edit_form: Form | None = None, status: int = 200
) -> HttpResponse:
    tenant = request.tenant
    context = {
        "team": team,
        "edit_form": edit_form
        or TeamEditForm(initial={"name": team.name, "description": team.description}),
        "add_form": StaffChoiceForm(tenant=tenant, team=team),
        "lead_form": TeamLeadForm(tenant=tenant, initial={"lead": team.lead_id}),
    }
    if request.htmx:
        return render(
            request, "servicedesk/admin/_partials/team_members.html", context, status=status
        )
    return render(request, "servicedesk/admin/team_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
@tenant_area("admin")
def team_detail(request: TenantRequest, tenant_slug: str, team_slug: str) -> HttpResponse:
    team = selectors.get_team(tenant=request.tenant, slug=team_slug)
    if request.method == "POST":
        form = TeamEditForm(request.POST)
        if submit(form, lambda data: services.team_update(actor=request.user, team=team, **data)):
            messages.success(request, "Team saved.")
            return redirect("tenant_admin:team", tenant_slug=tenant_slug, team_slug=team.slug)
        return _team_page(request, team, edit_form=form, status=400)
    return _team_page(request, team)


@require_POST
@tenant_area("admin")
def team_members(request: TenantRequest, tenant_slug: str, team_slug: str) -> HttpResponse:
    """Add (``action=add``) or remove (``action=remove``) a member, or set the lead.

    Answers with the members fragment for HTMX, else redirects to the team.
    """
    tenant = request.tenant
    team = selectors.get_team(tenant=tenant, slug=team_slug)
    action = request.POST.get("action")
    errors: list[str] = []
    form: Form
    if action == "add":
        form = StaffChoiceForm(request.POST, tenant=tenant, team=team)
        apply = lambda data: services.team_add_member(  # noqa: E731
            actor=request.user, team=team, user=data["user"]
        )
    elif action == "remove":
        form = StaffChoiceForm(request.POST, tenant=tenant)
        apply = lambda data: services.team_remove_member(  # noqa: E731
            actor=request.user, team=team, user=data["user"]
        )
    elif action == "lead":
        form = TeamLeadForm(request.POST, tenant=tenant)
        apply = lambda data: services.team_set_lead(  # noqa: E731
            actor=request.user, team=team, user=data["lead"]
        )
    else:
        errors.append("Choose whether to add, remove or set the lead.")
    if not errors and not submit(form, apply):
        errors = error_messages(form)
    for error in errors:
        messages.error(request, error)
    if request.htmx:
        team = selectors.get_team(tenant=tenant, slug=team_slug)
        return _team_page(request, team, status=400 if errors else 200)
    return redirect("tenant_admin:team", tenant_slug=tenant_slug, team_slug=team.slug)


@require_http_methods(["GET", "POST"])
@tenant_area("admin")
def api_tokens(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """The tenant's API tokens and the form that issues one.

    A new token's secret is shown on the page that answers the POST, once:
    only its hash is stored, so it is never in a redirect, the session or a log.
    """
    tenant = request.tenant
    form = ApiTokenForm(posted(request), tenant=tenant)
    status = 200
    if request.method == "POST":
        issued = submit(
            form,
            lambda data: services.api_token_create(
                tenant=tenant,
                actor=request.user,
                user=data["user"],
                name=data["name"],
                scopes=data["scopes"],
                expires_at=timezone.now() + timedelta(days=data["expires_in_days"])
                if data["expires_in_days"]
                else None,
            ),
        )
        if issued:
            token, secret = issued
            response = render(
                request,
                "servicedesk/admin/api_token_created.html",
                {"token": token, "secret": secret},
            )
            add_never_cache_headers(response)
            return response
        status = 400
    return render(
        request,
        "servicedesk/admin/api_tokens.html",
        {"tokens": selectors.api_token_list(tenant=tenant), "form": form},
        status=status,
    )


@require_POST
@tenant_area("admin")
def api_token_revoke(request: TenantRequest, tenant_slug: str, token_id: int) -> HttpResponse:
    token = selectors.get_api_token(tenant=request.tenant, token_id=token_id)
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, f"API token “{token.name}” revoked; it no longer works.")
    return redirect("tenant_admin:api_tokens", tenant_slug=tenant_slug)
