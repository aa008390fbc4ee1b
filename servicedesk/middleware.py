"""Resolves the tenant and the membership of every ``/t/<slug>/`` request."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from servicedesk.models import Membership, Tenant


def resolve_tenant_membership(request: HttpRequest, slug: str) -> tuple[Tenant, Membership]:
    """The tenant named by ``slug`` and the user's active membership in it.

    Unknown slug, inactive tenant, anonymous user, non-member and deactivated
    member all raise the same 404, so the answer tells nothing about which
    tenants exist.
    """
    user = request.user
    if not user.is_authenticated:
        raise Http404("No such tenant")
    membership = (
        Membership.objects.unscoped()
        .select_related("tenant")
        .filter(tenant__slug=slug, tenant__is_active=True, user=user, is_active=True)
        .first()
    )
    if membership is None:
        raise Http404("No such tenant")
    return membership.tenant, membership


class TenantMiddleware:
    """Sets ``request.tenant`` and ``request.membership`` for ``/t/<slug>/`` URLs.

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
            # Activated per tenant request below; the thread serves others next.
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
        tenant, membership = resolve_tenant_membership(request, slug)
        request.tenant = tenant  # type: ignore[attr-defined]
        request.membership = membership  # type: ignore[attr-defined]
        # Times on a tenant's pages are shown in the tenant's zone.
        timezone.activate(zoneinfo.ZoneInfo(tenant.timezone))
        # Remembered for "/" (home); written only on change to spare a session UPDATE.
        if request.session.get("last_tenant") != tenant.slug:
            request.session["last_tenant"] = tenant.slug
        return None
