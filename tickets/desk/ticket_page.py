"""The ticket page and everything an agent does on it. After a change made with
HTMX the answer re-renders only the page's regions (and the apps' panels),
swapped out of band."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from servicedesk import selectors as core_selectors
from servicedesk.access import TenantRequest, tenant_area
from servicedesk.forms import error_messages
from servicedesk.models import User
from tickets import extensions, selectors, services, workflow
from tickets.desk.common import _choices, _flash_errors, _run, ago
from tickets.desk.timeline import _timeline
from tickets.extensions import PanelRequest
from tickets.forms import (
    FIELD_FORMS,
    AttachmentForm,
    DeskChoices,
    FieldForm,
    LinkForm,
    MergeForm,
    ReplyForm,
    TagsForm,
    TransitionForm,
    WatcherForm,
)
from tickets.models import (
    Priority,
    Source,
    Status,
    Ticket,
)
from tickets.services import Actor

# The regions of the ticket page an HTMX answer can replace (out of band),
# besides the panels other apps contribute.
REGIONS = ("header", "details", "timeline", "links", "watchers", "attachments")


def _ticket_context(
    request: TenantRequest,
    ticket: Ticket,
    *,
    choices: DeskChoices | None = None,
    bound: dict[str, Form] | None = None,
) -> dict[str, Any]:
    membership = request.membership
    choices = choices or _choices(request, categories=True)
    bound = bound or {}
    tags = selectors.ticket_tags(ticket=ticket)
    watchers = list(selectors.ticket_watchers(ticket=ticket))
    names = {u.email.lower(): u.display_name for u in [*choices.staff, *watchers]}
    names[ticket.requester.email.lower()] = ticket.requester.display_name
    now = timezone.now()

    def field_form(name: str) -> FieldForm:
        if name in bound:
            return bound[name]  # type: ignore[return-value]
        extra = {"tag_names": tags} if FIELD_FORMS[name] is TagsForm else {}
        return FIELD_FORMS[name](choices=choices, ticket=ticket, **extra)

    watching = any(u.pk == request.user.pk for u in watchers)
    files = list(selectors.ticket_attachments(ticket=ticket, viewer=membership))
    return {
        "ticket": ticket,
        "tags": tags,
        "watchers": watchers,
        "watching": watching,
        "attachments": files,
        "links": selectors.ticket_links(ticket=ticket, viewer=membership),
        "timeline": _timeline(ticket, membership, names, now, files),
        "panels": extensions.shown_panels(
            extensions.desk_panels, PanelRequest(membership=membership, ticket=ticket, now=now)
        ),
        "created_ago": ago(ticket.created_at, now),
        "updated_ago": ago(ticket.updated_at, now),
        "allowed_next": workflow.allowed_next(ticket.kind, ticket.status),
        "priority_hint": _priority_hint(ticket),
        "field_forms": {name: field_form(name) for name in FIELD_FORMS},
        "transition_form": bound.get("transition") or TransitionForm(ticket=ticket),
        "resolve_form": bound.get("resolve")
        or TransitionForm(ticket=ticket, auto_id="resolve-%s", initial={"status": "resolved"}),
        "reply_form": bound.get("reply") or ReplyForm(),
        "attachment_form": bound.get("attachments") or AttachmentForm(),
        "merge_form": bound.get("merge") or MergeForm(),
        "link_form": bound.get("links") or LinkForm(),
        "watcher_form": bound.get("watchers") or WatcherForm(),
        "can_resolve": Status.RESOLVED in workflow.allowed_next(ticket.kind, ticket.status),
        "is_done": ticket.status in (Status.CLOSED, Status.CANCELLED),
    }


def _priority_hint(ticket: Ticket) -> str:
    matrix = Priority(
        selectors.ticket_settings(ticket.tenant_id).priority_for(ticket.impact, ticket.urgency)
    )
    if ticket.priority_override_reason:
        return f"Set by hand. Impact × urgency gives {matrix.label}; choose it to go back."
    return "From impact × urgency. Another priority needs a reason."


@require_GET
@tenant_area("desk")
def ticket_detail(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """One ticket: its facts, conversation and history, and everything an agent does to it."""
    ticket = selectors.get_ticket_for(request.membership, key)
    if ticket.key != key:
        return redirect("tickets:desk_ticket", tenant_slug=tenant_slug, key=ticket.key)
    return render(request, "tickets/desk/ticket.html", _ticket_context(request, ticket))


def _answer(
    request: TenantRequest,
    key: str,
    *,
    ok: bool,
    bound: dict[str, Form] | None = None,
    with_reply: bool = False,
) -> HttpResponse:
    """After a change to a ticket: without JS, back to the page (or the page
    with the form's errors, 400); for HTMX, the page's regions, swapped out of
    band (the reply box only when the reply was what changed)."""
    ticket = selectors.get_ticket_for(request.membership, key)
    status = 200 if ok else 400
    if not request.htmx:
        if ok:
            return redirect("tickets:desk_ticket", tenant_slug=request.tenant.slug, key=ticket.key)
        context = _ticket_context(request, ticket, bound=bound)
        return render(request, "tickets/desk/ticket.html", context, status=status)
    context = _ticket_context(request, ticket, bound=bound)
    context["regions"] = [*REGIONS, "reply"] if with_reply else list(REGIONS)
    return render(request, "tickets/desk/ticket_regions.html", context, status=status)


@require_POST
@tenant_area("desk")
def ticket_fields(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """Change one field in place (``field`` names it): assignee, team, category,
    impact, urgency, priority (with a reason), tags, confidential or title."""
    ticket = selectors.get_ticket_for(request.membership, key)
    name = request.POST.get("field", "")
    form_class = FIELD_FORMS.get(name)
    if form_class is None:
        messages.error(request, "Choose which field to change.")
        return _answer(request, key, ok=False)
    choices = _choices(request, categories=True)
    extra = {"tag_names": selectors.ticket_tags(ticket=ticket)} if form_class is TagsForm else {}
    form = form_class(request.POST, choices=choices, ticket=ticket, **extra)
    actor = Actor.of(request.membership)
    done = _run(
        form, lambda _: services.ticket_update(actor=actor, ticket=ticket, **form.changes())
    )
    if done is not None:
        messages.success(request, f"{form.label} saved.")
        return _answer(request, key, ok=True)
    _flash_errors(request, error_messages(form))
    return _answer(request, key, ok=False, bound={name: form})


@require_POST
@tenant_area("desk")
def ticket_transition(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """Move the ticket along the workflow (resolving needs a resolution code)."""
    ticket = selectors.get_ticket_for(request.membership, key)
    slot = "resolve" if request.POST.get("form") == "resolve" else "transition"
    form = TransitionForm(
        request.POST, ticket=ticket, auto_id="resolve-%s" if slot == "resolve" else "status-%s"
    )
    done = _run(
        form,
        lambda data: services.ticket_transition(
            actor=Actor.of(request.membership),
            ticket=ticket,
            status=data["status"],
            resolution_code=data["resolution_code"],
            resolution_notes=data["resolution_notes"],
        ),
    )
    if done is not None:
        messages.success(request, f"{done.key} is now {done.get_status_display().lower()}.")
        return _answer(request, key, ok=True)
    _flash_errors(request, error_messages(form))
    return _answer(request, key, ok=False, bound={slot: form})


@require_POST
@tenant_area("desk")
def ticket_reply(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """A public reply or an internal note, with files."""
    ticket = selectors.get_ticket_for(request.membership, key)
    form = ReplyForm(request.POST, request.FILES)
    comment = _run(
        form,
        lambda data: services.comment_add(
            actor=Actor.of(request.membership),
            ticket=ticket,
            body=data["body"],
            is_internal=form.is_internal,
            source=Source.DESK,
            files=data["attachments"],
        ),
    )
    if comment is not None:
        messages.success(request, "Internal note added." if comment.is_internal else "Reply sent.")
        return _answer(request, key, ok=True, with_reply=True)
    _flash_errors(request, error_messages(form))
    return _answer(request, key, ok=False, bound={"reply": form}, with_reply=True)


@require_POST
@tenant_area("desk")
def ticket_attachments(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """Attach files to the ticket itself (not to a reply)."""
    ticket = selectors.get_ticket_for(request.membership, key)
    form = AttachmentForm(request.POST, request.FILES)
    actor = Actor.of(request.membership)

    def attach(data: dict[str, Any]) -> int:
        for upload in data["attachments"]:
            services.attachment_add(
                actor=actor, ticket=ticket, upload=upload, is_internal=data["is_internal"]
            )
        return len(data["attachments"])

    count = _run(form, attach)
    if count:
        messages.success(request, f"Attached {count} file{'s' if count != 1 else ''}.")
        return _answer(request, key, ok=True)
    _flash_errors(request, error_messages(form))
    return _answer(request, key, ok=False, bound={"attachments": form})


def _other_ticket(request: TenantRequest, form: Form, field: str) -> Ticket | None:
    """The ticket a form names by key, if the agent may see it; else a form error."""
    try:
        return selectors.get_ticket_for(request.membership, form.cleaned_data[field])
    except Http404:
        form.add_error(field, f"No ticket {form.cleaned_data[field]} that you can see.")
        return None


@require_POST
@tenant_area("desk")
def ticket_merge(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """Merge this ticket (a duplicate) into another; then show that one."""
    ticket = selectors.get_ticket_for(request.membership, key)
    form = MergeForm(request.POST)
    target = _other_ticket(request, form, "target") if form.is_valid() else None
    merged = None
    if target is not None:
        merged = _run(
            form,
            lambda _: services.ticket_merge(
                actor=Actor.of(request.membership), source=ticket, target=target
            ),
        )
    if merged is None:
        _flash_errors(request, error_messages(form))
        return _answer(request, key, ok=False, bound={"merge": form})
    messages.success(request, f"Merged {ticket.key} into {merged.key}.")
    url = reverse("tickets:desk_ticket", kwargs={"tenant_slug": tenant_slug, "key": merged.key})
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@tenant_area("desk")
def ticket_links(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """Link or unlink a parent, child, problem, incident or change."""
    ticket = selectors.get_ticket_for(request.membership, key)
    form = LinkForm(request.POST)
    other = _other_ticket(request, form, "other") if form.is_valid() else None
    done = None
    if other is not None:
        data = form.cleaned_data
        relation, adding = data["relation"], data["action"] == "add"
        # A child and an incident are the other ticket's parent and problem links.
        subject, obj = (other, ticket) if relation in ("child", "incident") else (ticket, other)
        service_relation = {"child": "parent", "incident": "problem"}.get(relation, relation)
        link = services.ticket_link if adding else services.ticket_unlink
        done = _run(
            form,
            lambda _: link(
                actor=Actor.of(request.membership),
                ticket=subject,
                relation=service_relation,
                other=obj,
            ),
        )
        if done is not None:
            verb = "Linked" if adding else "Unlinked"
            messages.success(request, f"{verb} {other.key}.")
    if done is None:
        _flash_errors(request, error_messages(form))
        return _answer(request, key, ok=False, bound={"links": form})
    return _answer(request, key, ok=True)


@require_POST
@tenant_area("desk")
def ticket_watchers(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """Add a member as a watcher (by e-mail), or remove one."""
    ticket = selectors.get_ticket_for(request.membership, key)
    form = WatcherForm(request.POST)
    done = None
    if form.is_valid():
        email = form.cleaned_data["email"]
        adding = form.cleaned_data["action"] == "add"
        people: QuerySet[User] = (
            core_selectors.active_member_users(tenant=request.tenant)
            if adding
            else selectors.ticket_watchers(ticket=ticket)
        )
        user = people.filter(email__iexact=email).first()
        if user is None:
            form.add_error(
                "email",
                f"{email} is not an active member of this organisation."
                if adding
                else f"{email} is not watching {ticket.key}.",
            )
        else:
            change = services.watcher_add if adding else services.watcher_remove
            done = _run(
                form,
                lambda _: change(actor=Actor.of(request.membership), ticket=ticket, user=user),
            )
            if done is not None:
                me = user.pk == request.user.pk
                if adding:
                    text = "You are watching" if me else f"{user.display_name} is watching"
                else:
                    text = "You stopped watching" if me else f"{user.display_name} stopped watching"
                messages.success(request, f"{text} {ticket.key}.")
    if done is None:
        _flash_errors(request, error_messages(form))
        return _answer(request, key, ok=False, bound={"watchers": form})
    return _answer(request, key, ok=True)
