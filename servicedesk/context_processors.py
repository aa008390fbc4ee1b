"""What the base layout needs on every page: the tenant, role and switcher."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from servicedesk.selectors import memberships_for_user


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_membership": membership,
        "current_area": getattr(request, "area", None),
        # Lazy: evaluated only when the layout renders the switcher.
        "switcher_memberships": memberships_for_user(user),
    }
