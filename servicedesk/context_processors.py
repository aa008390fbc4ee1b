"""What the base layout needs on every page: the tenant, role and switcher,
the staff areas and the sections of the tenant admin that the apps registered."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from servicedesk.registry import admin_sections, staff_areas
from servicedesk.selectors import memberships_for_user


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Tenant requests fetched them with the membership (and before the
    # row-level wall went up); elsewhere a lazy query, run only if rendered.
    memberships = getattr(request, "memberships", None)
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_membership": getattr(request, "membership", None),
        "current_area": getattr(request, "area", None),
        "admin_sections": admin_sections,
        "staff_areas": staff_areas,
        "switcher_memberships": memberships
        if memberships is not None
        else memberships_for_user(user),
    }
