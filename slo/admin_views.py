"""SLA settings in the tenant admin area (``/t/<slug>/admin/sla/``): the
policies in the order they are tried, with their escalations, and the
business calendars they count on, each with a preview of the due times
they produce.

Every write goes through ``slo.services``; the forms only parse. The
previews are GET forms (HTMX swaps their result in place) and compute with
the same business-time code the clocks run on.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicedesk.access import TenantRequest, tenant_area
from servicedesk.forms import posted, submit
from servicedesk.models import Membership
from slo import engine, selectors, services
from slo.business_time import CalendarNeverOpens, next_opening
from slo.forms import (
    DEFAULT_PREVIEW_MINUTES,
    CalendarForm,
    CalendarPreviewForm,
    EscalationForm,
    MemberSlaProfileForm,
    PolicyForm,
    PolicyMoveForm,
    PolicyPreviewForm,
    calendar_post_action,
    describe_conditions,
    describe_other_conditions,
    describe_targets,
    describe_week,
    format_minutes,
)
from slo.models import Calendar, Policy, Target
from slo.rules import calendar_schedule, policy_plan
from tickets.models import Priority, TicketKind

NEVER_OPENS = "This calendar has no working time in the next three years: check its holidays."


def _now_in(zone: zoneinfo.ZoneInfo) -> datetime:
    """Now as a wall-clock time in ``zone``, to the minute (naive, as the
    preview forms take it)."""
    return timezone.now().astimezone(zone).replace(second=0, microsecond=0, tzinfo=None)


def _preview_data(request: TenantRequest, names: tuple[str, ...]) -> Any:
    """The query string for a preview form when it carries one, else None
    (an unbound form that shows its defaults)."""
    return request.GET if any(name in request.GET for name in names) else None


# --- Policies ----------------------------------------------------------------------------


def _policy_rows(request: TenantRequest) -> dict[str, Any]:
    return {
        "rows": [
            {
                "policy": policy,
                "conditions": describe_conditions(policy),
                "targets": describe_targets(policy),
            }
            for policy in selectors.policy_overview(tenant=request.tenant)
        ]
    }


@require_GET
@tenant_area("admin")
def policies(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    return render(request, "slo/admin/policies.html", _policy_rows(request))


def _policy_form_page(
    request: TenantRequest, form: PolicyForm, context: dict[str, Any], status: int
) -> HttpResponse:
    context = {
        "form": form,
        "tag_names": form.tag_names(),
        "organisations": selectors.requester_organisations(tenant=request.tenant),
        **context,
    }
    return render(request, "slo/admin/policy_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@tenant_area("admin")
def policy_create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = PolicyForm(posted(request), tenant=request.tenant)
    if request.method == "POST":
        policy = submit(form, lambda data: services.policy_create(actor=request.membership, **data))
        if policy:
            messages.success(
                request,
                f"Policy “{policy.name}” created, last in the order. Move it up if it "
                "should win over broader policies, and add escalations below.",
            )
            return redirect("slo:admin_policy", tenant_slug=tenant_slug, policy_id=policy.pk)
        return _policy_form_page(request, form, {}, 400)
    return _policy_form_page(request, form, {}, 200)


@dataclass(frozen=True)
class TargetDue:
    label: str
    business_time: str
    due_at: datetime | None  # None: the target starts later (next response)
    warn_at: datetime | None


def _policy_preview(request: TenantRequest, policy: Policy) -> dict[str, Any]:
    """What a ticket opened at a moment would get ("a P2 incident opened at …
    would be: first response due …"), on the policy's calendar (the built-in
    24×7 one in the tenant's zone)."""
    zone_name = policy.calendar.timezone if policy.calendar else request.tenant.timezone
    zone = zoneinfo.ZoneInfo(zone_name)
    form = PolicyPreviewForm(
        _preview_data(request, ("kind", "priority", "opened_at")),
        initial={"kind": TicketKind.INCIDENT, "priority": 2, "opened_at": _now_in(zone)},
    )
    preview: dict[str, Any] = {"preview_form": form, "zone": zone_name}
    if form.is_bound and not form.is_valid():
        return preview
    data = form.cleaned_data if form.is_bound else form.initial
    kind, priority = str(data["kind"]), int(data["priority"])
    start = data["opened_at"].replace(tzinfo=zone)
    plan = policy_plan(policy)
    targets = []
    try:
        for target in Target:
            minutes = policy.target_minutes(target)
            if not minutes:
                continue
            due_at = warn_at = None
            if target != Target.NEXT_RESPONSE:
                # The engine's own projection: the preview is what a clock does.
                warn_at, due_at = engine.due_times(plan, timedelta(minutes=minutes), start)
            targets.append(TargetDue(target.label, format_minutes(minutes), due_at, warn_at))
        opens_at = next_opening(plan.calendar, start)
    except CalendarNeverOpens:
        preview["failure"] = NEVER_OPENS
        return preview
    misses = []
    if policy.kinds and kind not in policy.kinds:
        misses.append(
            "kinds " + ", ".join(TicketKind(k).label.lower() for k in sorted(policy.kinds))
        )
    if policy.priorities and priority not in policy.priorities:
        misses.append("priorities " + ", ".join(f"P{p}" for p in sorted(policy.priorities)))
    preview.update(
        {
            "ticket": f"{Priority(priority).label.split()[0]} {TicketKind(kind).label.lower()}",
            "start": start,
            "opens_at": opens_at if opens_at > start else None,
            "targets": targets,
            "misses": misses,
            "asks": describe_other_conditions(policy),
            "warning_percent": policy.warning_percent,
        }
    )
    return preview


def _policy_page(
    request: TenantRequest,
    policy: Policy,
    *,
    form: PolicyForm | None = None,
    escalation_form: EscalationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    preview = _policy_preview(request, policy)
    if request.htmx and request.htmx.target == "policy-due":
        return render(request, "slo/admin/_partials/policy_due.html", {"policy": policy, **preview})
    return _policy_form_page(
        request,
        form or PolicyForm(tenant=request.tenant, policy=policy),
        {
            "policy": policy,
            "escalations": policy.escalations.all(),
            "escalation_form": escalation_form or EscalationForm(tenant=request.tenant),
            **preview,
        },
        status,
    )


@require_http_methods(["GET", "POST"])
@tenant_area("admin")
def policy_detail(request: TenantRequest, tenant_slug: str, policy_id: int) -> HttpResponse:
    policy = selectors.get_policy(tenant=request.tenant, policy_id=policy_id)
    if request.method == "POST":
        form = PolicyForm(request.POST, tenant=request.tenant, policy=policy)
        saved = submit(
            form,
            lambda data: services.policy_update(actor=request.membership, policy=policy, **data),
        )
        if saved:
            messages.success(
                request,
                f"Policy “{saved.name}” saved. Open tickets take the change at their next update.",
            )
            return redirect("slo:admin_policy", tenant_slug=tenant_slug, policy_id=policy.pk)
        return _policy_page(request, policy, form=form, status=400)
    return _policy_page(request, policy)


@require_POST
@tenant_area("admin")
def policy_delete(request: TenantRequest, tenant_slug: str, policy_id: int) -> HttpResponse:
    policy = selectors.get_policy(tenant=request.tenant, policy_id=policy_id)
    name = policy.name
    services.policy_delete(actor=request.membership, policy=policy)
    messages.success(
        request,
        f"Policy “{name}” deleted. Tickets it applied to take the next matching policy at "
        "their next update.",
    )
    return redirect("slo:admin_policies", tenant_slug=tenant_slug)


@require_POST
@tenant_area("admin")
def policy_move(request: TenantRequest, tenant_slug: str, policy_id: int) -> HttpResponse:
    """Move a policy one place up or down; answers HTMX with the rows."""
    policy = selectors.get_policy(tenant=request.tenant, policy_id=policy_id)
    form = PolicyMoveForm(request.POST)
    if form.is_valid():
        offset = -1 if form.cleaned_data["direction"] == "up" else 1
        services.policy_move(actor=request.membership, policy=policy, offset=offset)
    if request.htmx:
        return render(
            request,
            "slo/admin/_partials/policy_rows.html",
            {**_policy_rows(request), "moved": policy.pk},
            status=200 if form.is_valid() else 400,
        )
    if not form.is_valid():
        messages.error(request, "Choose whether to move the policy up or down.")
    return redirect("slo:admin_policies", tenant_slug=tenant_slug)


@require_POST
@tenant_area("admin")
def escalation_create(request: TenantRequest, tenant_slug: str, policy_id: int) -> HttpResponse:
    policy = selectors.get_policy(tenant=request.tenant, policy_id=policy_id)
    form = EscalationForm(request.POST, tenant=request.tenant)
    created = submit(
        form,
        lambda data: services.escalation_create(actor=request.membership, policy=policy, **data),
    )
    if created:
        messages.success(request, f"Escalation added: {created}.")
        url = reverse("slo:admin_policy", args=[tenant_slug, policy.pk])
        return redirect(f"{url}#escalations")
    return _policy_page(request, policy, escalation_form=form, status=400)


@require_POST
@tenant_area("admin")
def escalation_delete(request: TenantRequest, tenant_slug: str, escalation_id: int) -> HttpResponse:
    escalation = selectors.get_escalation(tenant=request.tenant, escalation_id=escalation_id)
    policy_id = escalation.policy_id
    services.escalation_delete(actor=request.membership, escalation=escalation)
    messages.success(request, f"Escalation removed: {escalation}.")
    url = reverse("slo:admin_policy", args=[tenant_slug, policy_id])
    return redirect(f"{url}#escalations")


# --- Calendars ---------------------------------------------------------------------------


@require_GET
@tenant_area("admin")
def calendars(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    rows = [
        {"calendar": calendar, "week": describe_week(calendar.hours)}
        for calendar in selectors.calendar_overview(tenant=request.tenant)
    ]
    return render(request, "slo/admin/calendars.html", {"rows": rows})


def _posted_calendar(
    request: TenantRequest, calendar: Calendar | None
) -> tuple[CalendarForm, Calendar | None, str]:
    """The posted calendar form, and the calendar once saved; or, when a
    grid button (add an interval, copy Monday, more holiday rows) was
    pressed, the form changed accordingly and a note of what changed."""
    default_timezone = request.tenant.timezone
    action = calendar_post_action(request.POST)
    if action is not None:
        data, note = action
        form = CalendarForm(data, calendar=calendar, default_timezone=default_timezone, quiet=True)
        return form, None, note
    form = CalendarForm(request.POST, calendar=calendar, default_timezone=default_timezone)
    form.is_valid()
    values = form.values()
    # Ask the service about everything that parsed, so every problem shows at once.
    try:
        services.clean_calendar(
            name=values["name"],
            timezone_name=values["timezone_name"],
            hours=values["hours"],
            holidays=values["holidays"],
        )
    except ValidationError as error:
        form.add_service_error(error)
    if form.has_problems():
        return form, None, ""
    try:
        if calendar is None:
            saved = services.calendar_create(actor=request.membership, **values)
        else:
            saved = services.calendar_update(actor=request.membership, calendar=calendar, **values)
    except ValidationError as error:
        form.add_service_error(error)
        return form, None, ""
    return form, saved, ""


def _calendar_form_page(
    request: TenantRequest, form: CalendarForm, context: dict[str, Any], status: int
) -> HttpResponse:
    return render(
        request,
        "slo/admin/calendar_form.html",
        {"form": form, "holidays": form.holidays, "invalid": status == 400, **context},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@tenant_area("admin")
def calendar_create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    if request.method == "POST":
        form, saved, note = _posted_calendar(request, None)
        if saved is not None:
            messages.success(request, f"Calendar “{saved.name}” created. Try its due times below.")
            return redirect("slo:admin_calendar", tenant_slug=tenant_slug, calendar_id=saved.pk)
        return _calendar_form_page(request, form, {"note": note}, 200 if note else 400)
    form = CalendarForm(default_timezone=request.tenant.timezone)
    return _calendar_form_page(request, form, {}, 200)


@dataclass(frozen=True)
class DuePreview:
    start: datetime
    opens_at: datetime | None  # when counting starts, if later than the start
    due_at: datetime
    business_time: str


def _calendar_preview(request: TenantRequest, calendar: Calendar) -> dict[str, Any]:
    zone = zoneinfo.ZoneInfo(calendar.timezone)
    form = CalendarPreviewForm(
        _preview_data(request, ("start", "minutes")),
        initial={"start": _now_in(zone), "minutes": DEFAULT_PREVIEW_MINUTES},
    )
    preview: dict[str, Any] = {"preview_form": form, "zone": calendar.timezone}
    if form.is_bound and not form.is_valid():
        return preview
    data = form.cleaned_data if form.is_bound else form.initial
    start = data["start"].replace(tzinfo=zone)
    minutes = int(data["minutes"])
    try:
        due_at = services.preview_due(calendar=calendar, start=start, minutes=minutes)
        opens_at = next_opening(calendar_schedule(calendar), start)
    except CalendarNeverOpens:
        preview["failure"] = NEVER_OPENS
        return preview
    preview["due"] = DuePreview(
        start=start,
        opens_at=opens_at if opens_at > start else None,
        due_at=due_at,
        business_time=format_minutes(minutes),
    )
    return preview


def _calendar_page(
    request: TenantRequest,
    calendar: Calendar,
    *,
    form: CalendarForm | None = None,
    note: str = "",
    status: int = 200,
) -> HttpResponse:
    preview = _calendar_preview(request, calendar)
    if request.htmx and request.htmx.target == "calendar-due":
        return render(
            request, "slo/admin/_partials/calendar_due.html", {"calendar": calendar, **preview}
        )
    return _calendar_form_page(
        request,
        form or CalendarForm(calendar=calendar),
        {
            "calendar": calendar,
            "note": note,
            "used_by": selectors.calendar_policy_names(calendar=calendar),
            **preview,
        },
        status,
    )


@require_http_methods(["GET", "POST"])
@tenant_area("admin")
def calendar_detail(request: TenantRequest, tenant_slug: str, calendar_id: int) -> HttpResponse:
    calendar = selectors.get_calendar(tenant=request.tenant, calendar_id=calendar_id)
    if request.method == "POST":
        form, saved, note = _posted_calendar(request, calendar)
        if saved is not None:
            messages.success(
                request,
                f"Calendar “{saved.name}” saved. Open tickets take the new hours at their "
                "next update.",
            )
            return redirect("slo:admin_calendar", tenant_slug=tenant_slug, calendar_id=saved.pk)
        return _calendar_page(request, calendar, form=form, note=note, status=200 if note else 400)
    return _calendar_page(request, calendar)


@require_POST
@tenant_area("admin")
def calendar_delete(request: TenantRequest, tenant_slug: str, calendar_id: int) -> HttpResponse:
    calendar = selectors.get_calendar(tenant=request.tenant, calendar_id=calendar_id)
    try:
        services.calendar_delete(actor=request.membership, calendar=calendar)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("slo:admin_calendar", tenant_slug=tenant_slug, calendar_id=calendar.pk)
    messages.success(request, f"Calendar “{calendar.name}” deleted.")
    return redirect("slo:admin_calendars", tenant_slug=tenant_slug)


# --- The member page's SLA profile (``servicedesk.registry.member_panels``) ------------


def member_profile_context(
    request: HttpRequest, membership: Membership, form: MemberSlaProfileForm | None = None
) -> dict[str, Any]:
    return {
        "form": form
        or MemberSlaProfileForm(
            initial={"organisation": membership.organisation, "is_vip": membership.is_vip}
        ),
        "organisations": selectors.requester_organisations(tenant=membership.tenant_id),
    }


def member_profile_post(
    request: HttpRequest, membership: Membership
) -> tuple[dict[str, Any] | None, str]:
    """Save the posted profile: ``(None, message)``, or the card's context
    with the form's errors."""
    actor = cast(TenantRequest, request).membership
    form = MemberSlaProfileForm(request.POST)
    saved = submit(
        form,
        lambda data: services.membership_set_sla_profile(
            actor=actor,
            membership=membership,
            organisation=data["organisation"],
            is_vip=data["is_vip"],
        ),
    )
    if saved:
        return None, f"SLA profile of {saved.user.email} saved."
    return member_profile_context(request, membership, form), ""
