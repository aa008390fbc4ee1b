"""Role gates for the tenant areas.

``/t/<slug>/portal/`` is open to every member, ``/desk/`` to agents and up,
``/admin/`` to admins. The middleware has already turned "not a member" into a
404; here an anonymous visitor goes to the login page and a member with too
small a role gets a 403 page that says which role the area needs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from servicedesk.models import Membership, Role, Tenant, User


class AuthedRequest(HttpRequest):
    """A request of a signed-in user (after ``login_required``)."""

    user: User
    htmx: HtmxDetails


class TenantRequest(AuthedRequest):
    """A request that passed ``tenant_area``: tenant and membership are set."""

    tenant: Tenant
    membership: Membership
    memberships: list[Membership]
    area: str


def sign_in_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The e-mail a sign-in attempt names, as django-axes should count it."""
    raw = (credentials or {}).get("username") or request.POST.get("username")
    return raw.strip().lower() if isinstance(raw, str) else None


AREA_ROLES = {
    "portal": Role.REQUESTER,
    "desk": Role.AGENT,
    "admin": Role.ADMIN,
}


def tenant_area(area: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Gate a view under ``/t/<tenant_slug>/`` to members with the area's role."""
    minimum = AREA_ROLES[area]

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = getattr(request, "membership", None)
            if membership is None:
                raise Http404("No such tenant")
            if not membership.has_role(minimum):
                return render(
                    request,
                    "403.html",
                    {"area": area, "required_role": Role(minimum).label},
                    status=403,
                )
            request.area = area  # type: ignore[attr-defined]  # narrowed to TenantRequest
            return view(request, *args, **kwargs)

        wrapper.tenant_area = area  # type: ignore[attr-defined]
        return wrapper

    return decorator
