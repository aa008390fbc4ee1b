"""What the desk's views share: relative times, the choices of its forms,
running a form's action and flashing its errors, the desk's own URLs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import QueryDict
from django.urls import reverse

from servicedesk import selectors as core_selectors
from servicedesk.access import TenantRequest
from servicedesk.forms import submit
from tickets import selectors
from tickets.forms import DeskChoices

T = TypeVar("T")

PER_PAGE = 50
# Rows re-rendered by the queue's polling and by quick actions from the keyboard.
ROWS_TARGET = "queue-rows"


# --- Small helpers ---------------------------------------------------------------------


AGO_UNITS = (
    (365 * 86400, "yr"),
    (30 * 86400, "mo"),
    (7 * 86400, "wk"),
    (86400, "d"),
    (3600, "h"),
    (60, "min"),
)


def ago(moment: datetime | None, now: datetime) -> str:
    """``"3 min ago"``: the largest unit only, short enough for a queue column."""
    if moment is None:
        return ""
    seconds = (now - moment).total_seconds()
    for size, unit in AGO_UNITS:
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def _choices(
    request: TenantRequest,
    *,
    staff: bool = True,
    teams: bool = True,
    categories: bool = False,
    my_teams: bool = False,
) -> DeskChoices:
    """The people, teams and categories the page's selects offer; one query each."""
    tenant = request.tenant
    return DeskChoices(
        me=request.user,
        staff=list(selectors.staff_members(tenant=tenant)) if staff else [],
        teams=list(core_selectors.team_list(tenant=tenant)) if teams else [],
        categories=list(selectors.category_list(tenant=tenant)) if categories else [],
        my_team_ids=selectors.user_team_ids(tenant=tenant, user=request.user) if my_teams else [],
    )


def _run(form: Form, action: Callable[[dict[str, Any]], T]) -> T | None:
    """``submit`` that also shows a service's refusal on the form."""
    try:
        return submit(form, action)
    except PermissionDenied as denied:
        form.add_error(None, str(denied) or "You may not do this.")
        return None


def _flash_errors(request: TenantRequest, errors: Iterable[str]) -> None:
    for error in errors:
        messages.error(request, error)


def _desk_url(tenant_slug: str, query: str = "") -> str:
    url = reverse("desk", kwargs={"tenant_slug": tenant_slug})
    return f"{url}?{query}" if query else url


def _clean_next(raw: str) -> str:
    """A queue query string handed back by a form, re-encoded: it is only
    ever appended to the desk's own path, so it cannot redirect elsewhere."""
    return QueryDict((raw or "")[:2000].lstrip("?")).urlencode()
