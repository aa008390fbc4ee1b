"""Resolves the tenant and the membership of every ``/t/<slug>/`` request,
and keeps signed-in people's pages out of caches."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from servicedesk.models import Membership, Tenant
from servicedesk.rls import set_current_tenant
from servicedesk.selectors import memberships_for_user


def resolve_tenant_membership(
    request: HttpRequest, slug: str
) -> tuple[Tenant, Membership, list[Membership]]:
    """The tenant named by ``slug``, the user's active membership in it, and
    all of the user's memberships (for the tenant switcher), in one query.

    Unknown slug, inactive tenant, anonymous user, non-member and deactivated
    member all raise the same 404, so the answer tells nothing about which
    tenants exist.
    """
    user = request.user
    if not user.is_authenticated:
        raise Http404("No such tenant")
    memberships = list(memberships_for_user(user))
    for each in memberships:
        # The member is the signed-in user: hand the row over instead of
        # letting every ``membership.user`` fetch it again.
        each.user = user
    membership = next((m for m in memberships if m.tenant.slug == slug), None)
    if membership is None:
        raise Http404("No such tenant")
    return membership.tenant, membership, memberships


class TenantMiddleware:
    """Sets ``request.tenant`` and ``request.membership`` for ``/t/<slug>/`` URLs,
    shows times in the tenant's zone and raises the database's row-level wall
    around the tenant for the rest of the request.

    Anonymous visitors are left alone here; the area views send them to the
    login page. Everyone else who is not an active member gets a 404.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tenant = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        try:
            return self.get_response(request)
        finally:
            if request.tenant is not None:  # type: ignore[attr-defined]
                # The connection and the thread serve other requests next.
                set_current_tenant(None)
                timezone.deactivate()

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        slug = view_kwargs.get("tenant_slug")
        if slug is None:
            return None
        if not request.user.is_authenticated:
            return None
        tenant, membership, memberships = resolve_tenant_membership(request, slug)
        set_current_tenant(tenant.pk)
        request.tenant = tenant  # type: ignore[attr-defined]
        request.membership = membership  # type: ignore[attr-defined]
        request.memberships = memberships  # type: ignore[attr-defined]
        # Times on a tenant's pages are shown in the tenant's zone.
        timezone.activate(zoneinfo.ZoneInfo(tenant.timezone))
        # Remembered for "/" (home); written only on change to spare a session UPDATE.
        if request.session.get("last_tenant") != tenant.slug:
            request.session["last_tenant"] = tenant.slug
        return None


class PrivateResponseMiddleware:
    """``Cache-Control: no-store`` (and its older spellings) on every response
    to a signed-in person or an API token, unless the view chose its own
    caching: tenant pages, profiles and API answers hold private data that a
    shared proxy or the browser's disk must not keep.

    Static files (WhiteNoise answers before this runs) and anonymous pages
    (sign-in, health checks) keep their headers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # After the view: an API token sets request.user only then.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
