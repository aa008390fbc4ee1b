"""Accounts, the tenant switcher, invitations and the three area home pages."""

from __future__ import annotations

import sys

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.views import defaults
from django.views.decorators.http import require_http_methods

from servicedesk import selectors, services
from servicedesk.access import AuthedRequest, TenantRequest, tenant_area
from servicedesk.forms import AcceptInvitationForm, ProfileForm, posted, submit
from servicedesk.models import Membership, Role, User


def _area_for(membership: Membership) -> str:
    """Where a member starts: agents and up at the desk, requesters in the portal."""
    return "desk" if membership.is_agent else "portal"


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    """Send a signed-in person to the tenant they used last (or their first one)."""
    memberships = list(selectors.memberships_for_user(request.user))
    if not memberships:
        return render(request, "servicedesk/no_tenant.html")
    last = request.session.get("last_tenant")
    chosen = next((m for m in memberships if m.tenant.slug == last), memberships[0])
    return redirect(_area_for(chosen), tenant_slug=chosen.tenant.slug)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthedRequest) -> HttpResponse:
    """The signed-in person's own name; password change is linked from here."""
    form = ProfileForm(posted(request), initial={"full_name": request.user.full_name})
    if request.method == "POST":
        saved = submit(
            form,
            lambda data: services.user_update_profile(
                user=request.user, full_name=data["full_name"]
            ),
        )
        if saved:
            messages.success(request, "Profile saved.")
            return redirect("profile")
        return render(request, "servicedesk/profile.html", {"form": form}, status=400)
    return render(request, "servicedesk/profile.html", {"form": form})


@login_required
def tenant_switcher(request: AuthedRequest) -> HttpResponse:
    return render(request, "servicedesk/tenant_switcher.html")


@tenant_area("portal")
def tenant_home(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    return redirect(_area_for(request.membership), tenant_slug=tenant_slug)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link from an invitation e-mail.

    Signed-in as the invited address: one click joins. No account for the
    address: a form creates it. An account exists but another one is signed
    in (or none): sign in as the invited address first.
    """
    try:
        invitation = services.invitation_from_token(token)
    except services.InvitationInvalid as exc:
        return render(
            request, "servicedesk/invitation_invalid.html", {"reason": exc.reason}, status=410
        )

    user = request.user
    has_account = User.objects.filter(email__iexact=invitation.email).exists()
    form = None
    if request.method == "POST":
        try:
            if user.is_authenticated and user.email.lower() == invitation.email.lower():
                membership = services.invitation_accept(invitation=invitation, user=user)
            elif not user.is_authenticated and not has_account:
                form = AcceptInvitationForm(request.POST, email=invitation.email)
                if not form.is_valid():
                    return render(
                        request,
                        "servicedesk/invitation_accept.html",
                        {"invitation": invitation, "form": form, "has_account": False},
                        status=400,
                    )
                membership = services.invitation_accept_new_user(
                    invitation=invitation,
                    account=services.NewAccount(
                        full_name=form.cleaned_data["full_name"],
                        password=form.cleaned_data["password1"],
                    ),
                )
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                messages.error(request, f"Sign in as {invitation.email} to accept this invitation.")
                return redirect(request.path)
        except services.InvitationInvalid as exc:
            return render(
                request, "servicedesk/invitation_invalid.html", {"reason": exc.reason}, status=410
            )
        messages.success(request, f"Welcome to {invitation.tenant.name}.")
        return redirect(_area_for(membership), tenant_slug=invitation.tenant.slug)

    if not user.is_authenticated and not has_account:
        form = AcceptInvitationForm(email=invitation.email)
    return render(
        request,
        "servicedesk/invitation_accept.html",
        {
            "invitation": invitation,
            "form": form,
            "has_account": has_account,
            "role_label": Role(invitation.role).label,
        },
    )


# The database is down or restarting: a 503 that says "try again", not a 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def server_error(request: HttpRequest) -> HttpResponse:
    """The handler of every uncaught exception (``handler500``).

    When it is the database that cannot be reached (a restart, a failover),
    the answer is 503 with ``Retry-After``: nothing was committed, and a
    sender such as an integration retries. JSON for the API and the
    integrations, a page without the database for people. Anything else is
    Django's 500."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        if request.path.startswith(("/api/", "/integrations/")):
            response: HttpResponse = JsonResponse(
                {
                    "detail": "The database is unavailable; try again shortly.",
                    "code": "unavailable",
                },
                status=503,
            )
        else:
            response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request)
