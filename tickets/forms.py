"""Forms of the agents' desk: the queue's filters, bulk actions, saved views,
the ticket page's in-place edits, the conversation and the new-ticket form.

The selects offer what ``DeskChoices`` holds -- people, teams and categories
read once per request through the selectors -- so no form runs a query of
its own while it renders or cleans (the query counts stay pinned).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.text import slugify

from servicedesk.models import Team, User
from tickets import extensions, workflow
from tickets.models import (
    TICKET_KEY,
    Category,
    Level,
    Priority,
    ResolutionCode,
    Status,
    Ticket,
    TicketKind,
)
from tickets.selectors import QueueFilters, default_sort
from tickets.services import BODY_MAX, TAG_MAX, TITLE_MAX

MAX_FILES = 10


@dataclass(frozen=True)
class DeskChoices:
    """What the desk's selects offer, read once per request."""

    me: User
    staff: Sequence[User] = ()
    teams: Sequence[Team] = ()
    categories: Sequence[Category] = ()
    my_team_ids: Sequence[int] = ()

    def person(self, pk: Any) -> User | None:
        return next((u for u in self.staff if str(u.pk) == str(pk)), None)

    def team(self, pk: Any) -> Team | None:
        return next((t for t in self.teams if str(t.pk) == str(pk)), None)

    def category(self, pk: Any) -> Category | None:
        return next((c for c in self.categories if str(c.pk) == str(pk)), None)

    @property
    def my_teams(self) -> list[Team]:
        return [t for t in self.teams if t.pk in self.my_team_ids]


def people_choices(users: Sequence[User]) -> list[tuple[str, str]]:
    return [(str(u.pk), u.display_name) for u in users]


def split_tags(text: str) -> list[str]:
    """``"vpn, Mail  printer"`` -> ``["vpn", "Mail", "printer"]``."""
    return [part for part in re.split(r"[\s,]+", text or "") if part]


def short(value: object, limit: int = 40) -> str:
    """A value someone typed, cut down for a message that repeats it."""
    text = "".join(ch for ch in str(value) if ch.isprintable())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- The queue ---------------------------------------------------------------------------


def sort_choices() -> list[tuple[str, str]]:
    """Every registered sort, each way round (``tickets.extensions``)."""
    return [
        choice
        for sort in extensions.sorts
        for choice in ((sort.name, sort.label), (f"-{sort.name}", sort.reversed_label))
    ]


MULTI_VALUE_FILTERS = ("status", "priority", "kind")
SEARCH_MAX = 200


@dataclass(frozen=True)
class QueueQuery:
    """A validated queue request: which queue, its filters, the canonical
    query string (for links, polling and saved views) and what was ignored."""

    queue: str
    filters: QueueFilters
    query: str
    notices: list[str] = field(default_factory=list)
    initial: dict[str, Any] = field(default_factory=dict)

    @property
    def is_filtered(self) -> bool:
        return any(value for key, value in self.initial.items() if key not in ("queue", "sort"))


class QueueFilterForm(forms.Form):
    """The queue's query string. Nothing in it can break the page: unknown
    values are dropped (valid ones in the same parameter kept) and each
    dropped one is named in ``notices``."""

    queue = forms.ChoiceField(required=False)
    q = forms.CharField(label="Search", max_length=SEARCH_MAX, required=False)
    status = forms.MultipleChoiceField(
        choices=Status.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    priority = forms.TypedMultipleChoiceField(
        choices=Priority.choices, coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    kind = forms.MultipleChoiceField(
        choices=TicketKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    team = forms.ChoiceField(required=False)
    assignee = forms.ChoiceField(required=False)
    tag = forms.CharField(max_length=50, required=False)
    sort = forms.ChoiceField(required=False)

    def __init__(self, data: QueryDict | None = None, *, choices: DeskChoices, **kwargs: Any):
        kwargs.setdefault("auto_id", "filter-%s")
        super().__init__(data, **kwargs)
        self.choices = choices
        self.notices: list[str] = []
        # Other apps add queues and sorts: read the registries when asked.
        cast(forms.ChoiceField, self.fields["queue"]).choices = [
            (queue.name, queue.label) for queue in extensions.queues
        ]
        cast(forms.ChoiceField, self.fields["sort"]).choices = sort_choices()
        cast(forms.ChoiceField, self.fields["team"]).choices = [
            ("", "Any team"),
            *((t.slug, t.name) for t in choices.teams),
        ]
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", "Anyone"),
            ("me", "Me"),
            ("none", "Nobody (unassigned)"),
            *people_choices(choices.staff),
        ]
        if self.is_bound:
            self.data = self._without_unknown_values(cast(QueryDict, self.data))

    def _without_unknown_values(self, data: QueryDict) -> QueryDict:
        kept = data.copy()
        for name in MULTI_VALUE_FILTERS:
            choice_field = cast(forms.MultipleChoiceField, self.fields[name])
            values: list[str] = []
            for value in data.getlist(name):
                if not choice_field.valid_value(value):
                    self.notices.append(f"Ignored unknown {name} “{short(value)}”.")
                elif value not in values:
                    values.append(value)
            kept.setlist(name, values)
        return kept

    def result(self, *, default_queue: str) -> QueueQuery:
        """The validated query; fields that failed validation are left out."""
        self.is_valid()
        for name, errors in self.errors.as_data().items():
            self.notices.append(self._notice(name, errors[0]))
        data = self.cleaned_data
        me = self.choices.me
        queue = data.get("queue") or default_queue
        assignee_key = data.get("assignee") or ""
        team_slug = data.get("team") or ""
        text = (data.get("q") or "").strip()
        tag = slugify(data.get("tag") or "", allow_unicode=True)[:50]
        sort = data.get("sort") or default_sort(queue)
        filters = QueueFilters(
            status=tuple(data.get("status") or ()),
            priority=tuple(data.get("priority") or ()),
            kind=tuple(data.get("kind") or ()),
            team=next((t for t in self.choices.teams if t.slug == team_slug), None),
            assignee=me if assignee_key == "me" else self.choices.person(assignee_key),
            unassigned=assignee_key == "none",
            tag=tag,
            text=text,
            sort=sort,
        )
        initial: dict[str, Any] = {
            "queue": queue,
            "q": text,
            "status": list(filters.status),
            "priority": [str(p) for p in filters.priority],
            "kind": list(filters.kind),
            "team": team_slug,
            "assignee": assignee_key,
            "tag": tag,
            "sort": sort,
        }
        pairs: list[tuple[str, str]] = []
        for key, value in initial.items():
            if key == "sort" and value == default_sort(queue):
                continue
            for item in value if isinstance(value, list) else [value]:
                if item:
                    pairs.append((key, str(item)))
        return QueueQuery(
            queue=queue,
            filters=filters,
            query=urlencode(pairs),
            notices=self.notices,
            initial=initial,
        )

    def _notice(self, name: str, error: ValidationError) -> str:
        label = str(self.fields[name].label or name).lower()
        value = self.data.get(name, "")
        if error.code == "invalid_choice":
            return f"Ignored unknown {label} “{short(value)}”."
        if error.code == "max_length":
            limit = getattr(self.fields[name], "max_length", "")
            return f"Ignored the {label}: it was longer than {limit} characters."
        if error.code == "null_characters_not_allowed":
            return f"Ignored the {label}: it contained a NUL character."
        return f"Ignored the {label}: {short(' '.join(error.messages), 120)}"


# --- Bulk actions and saved views ---------------------------------------------------------

BULK_ACTION_CHOICES = [
    ("assign", "Assign"),
    ("status", "Set status"),
    ("priority", "Set priority"),
    ("tag", "Add tag"),
    ("merge", "Merge into"),
]


def key_field(label: str, *, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=20,
        required=required,
        widget=forms.TextInput(attrs={"placeholder": "INC-42", "autocomplete": "off"}),
    )


def clean_key(value: str) -> str:
    key = (value or "").strip().upper()
    if key and not TICKET_KEY.match(key):
        raise ValidationError("Write a ticket key such as INC-42.")
    return key


class BulkForm(forms.Form):
    """One change for every selected ticket (``tickets`` is read by the view)."""

    action = forms.ChoiceField(choices=BULK_ACTION_CHOICES)
    assignee = forms.ChoiceField(label="Assign to", required=False)
    status = forms.ChoiceField(
        choices=[("", "Choose…"), *Status.choices], required=False, label="New status"
    )
    resolution_code = forms.ChoiceField(
        choices=[("", "Choose…"), *ResolutionCode.choices], required=False, label="Resolution"
    )
    priority = forms.TypedChoiceField(
        choices=[("", "Choose…"), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label="New priority",
    )
    priority_reason = forms.CharField(label="Reason", max_length=300, required=False)
    tag = forms.CharField(label="Tag", max_length=50, required=False)
    target = key_field("Merge into")

    def __init__(self, *args: Any, choices: DeskChoices, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "bulk-%s")
        super().__init__(*args, **kwargs)
        self.choices = choices
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("me", "Me"),
            ("none", "Nobody (unassign)"),
            *people_choices([u for u in choices.staff if u.pk != choices.me.pk]),
        ]

    def clean_target(self) -> str:
        return clean_key(self.cleaned_data.get("target", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        needs = {
            "assign": [("assignee", "Choose who gets the tickets.")],
            "status": [("status", "Choose the new status.")],
            "priority": [
                ("priority", "Choose the new priority."),
                ("priority_reason", "Say why you set the priority by hand."),
            ],
            "tag": [("tag", "Name the tag to add.")],
            "merge": [("target", "Name the ticket to merge into, such as INC-42.")],
        }
        for name, message in needs.get(action or "", []):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, message)
        resolving = action == "status" and data.get("status") == Status.RESOLVED
        if resolving and not data.get("resolution_code"):
            self.add_error("resolution_code", "Resolving needs a resolution code.")
        return data

    @property
    def assignee_user(self) -> User | None:
        key = self.cleaned_data.get("assignee")
        if key == "me":
            return self.choices.me
        return self.choices.person(key)


class SavedViewForm(forms.Form):
    name = forms.CharField(label="Name", max_length=80)
    team = forms.ChoiceField(label="Share with", required=False)
    query = forms.CharField(max_length=1000, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, choices: DeskChoices, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "view-%s")
        super().__init__(*args, **kwargs)
        self.choices = choices
        cast(forms.ChoiceField, self.fields["team"]).choices = [
            ("", "Only me"),
            *((str(t.pk), f"Team {t.name}") for t in choices.my_teams),
        ]

    def clean_team(self) -> Team | None:
        return self.choices.team(self.cleaned_data.get("team"))


# --- Files -----------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; empty and oversized files are refused
    here, before anything is stored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        uploads = [d for d in (data if isinstance(data, list | tuple) else [data]) if d]
        if not uploads:
            if self.required:
                raise ValidationError("Choose at least one file.", code="required")
            return []
        if len(uploads) > MAX_FILES:
            raise ValidationError(f"Attach at most {MAX_FILES} files at a time.")
        limit = settings.TICKET_ATTACHMENT_MAX_BYTES
        cleaned = []
        for upload in uploads:
            single = super().clean(upload, initial)
            name = short(getattr(single, "name", "file"), 80)
            if not single.size:
                raise ValidationError(f"{name} is empty.")
            if single.size > limit:
                raise ValidationError(
                    f"{name} is {single.size / 1_048_576:.1f} MB; "
                    f"the limit is {limit / 1_048_576:.0f} MB."
                )
            cleaned.append(single)
        return cleaned


# --- The ticket page: in-place edits ------------------------------------------------------


class FieldForm(forms.Form):
    """One field of the ticket, edited in place; ``changes()`` says what to
    hand to ``services.ticket_update``."""

    field_name: ClassVar[str]
    label: ClassVar[str]

    def __init__(self, *args: Any, choices: DeskChoices, ticket: Ticket, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"edit-{self.field_name}-%s")
        super().__init__(*args, **kwargs)
        self.choices = choices
        self.ticket = ticket

    def changes(self) -> dict[str, Any]:
        return {self.field_name: self.cleaned_data[self.field_name]}


class TitleForm(FieldForm):
    field_name = "title"
    label = "Title"
    title = forms.CharField(label="Title", max_length=TITLE_MAX)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("title", self.ticket.title)


class AssigneeForm(FieldForm):
    field_name = "assignee"
    label = "Assignee"
    assignee = forms.ChoiceField(label="Assignee", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = list(self.choices.staff)
        current = self.ticket.assignee
        if current is not None and all(u.pk != current.pk for u in people):
            people.append(current)  # a former agent still shows as assigned
        self.people = people
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", "Unassigned"),
            *people_choices(people),
        ]
        self.initial.setdefault("assignee", self.ticket.assignee_id or "")

    def clean_assignee(self) -> User | None:
        key = self.cleaned_data.get("assignee")
        return next((u for u in self.people if str(u.pk) == key), None)


class TeamFieldForm(FieldForm):
    field_name = "team"
    label = "Team"
    team = forms.ChoiceField(label="Team", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["team"]).choices = [
            ("", "No team"),
            *((str(t.pk), t.name) for t in self.choices.teams),
        ]
        self.initial.setdefault("team", self.ticket.team_id or "")

    def clean_team(self) -> Team | None:
        return self.choices.team(self.cleaned_data.get("team"))


class CategoryForm(FieldForm):
    field_name = "category"
    label = "Category"
    category = forms.ChoiceField(label="Category", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            ("", "None"),
            *((str(c.pk), c.name) for c in self.choices.categories),
        ]
        self.initial.setdefault("category", self.ticket.category_id or "")

    def clean_category(self) -> Category | None:
        return self.choices.category(self.cleaned_data.get("category"))


class ImpactForm(FieldForm):
    field_name = "impact"
    label = "Impact"
    impact = forms.TypedChoiceField(label="Impact", choices=Level.choices, coerce=int)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("impact", self.ticket.impact)


class UrgencyForm(FieldForm):
    field_name = "urgency"
    label = "Urgency"
    urgency = forms.TypedChoiceField(label="Urgency", choices=Level.choices, coerce=int)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("urgency", self.ticket.urgency)


class PriorityForm(FieldForm):
    field_name = "priority"
    label = "Priority"
    priority = forms.TypedChoiceField(label="Priority", choices=Priority.choices, coerce=int)
    priority_reason = forms.CharField(
        label="Reason for the override",
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Why this priority?"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("priority", self.ticket.priority)
        self.initial.setdefault("priority_reason", self.ticket.priority_override_reason)

    def changes(self) -> dict[str, Any]:
        return {
            "priority": self.cleaned_data["priority"],
            "priority_reason": self.cleaned_data["priority_reason"],
        }


class TagsForm(FieldForm):
    field_name = "tags"
    label = "Tags"
    tags = forms.CharField(
        label="Tags",
        max_length=TAG_MAX * 52,
        required=False,
        help_text="Separated by spaces or commas.",
    )

    def __init__(self, *args: Any, tag_names: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("tags", " ".join(tag_names))

    def changes(self) -> dict[str, Any]:
        return {"tags": split_tags(self.cleaned_data["tags"])}


class ConfidentialForm(FieldForm):
    field_name = "is_confidential"
    label = "Confidential"
    is_confidential = forms.BooleanField(label="Confidential", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("is_confidential", self.ticket.is_confidential)


FIELD_FORMS: dict[str, type[FieldForm]] = {
    form.field_name: form
    for form in (
        TitleForm,
        AssigneeForm,
        TeamFieldForm,
        CategoryForm,
        ImpactForm,
        UrgencyForm,
        PriorityForm,
        TagsForm,
        ConfidentialForm,
    )
}


# --- The ticket page: workflow, conversation, links ---------------------------------------


class TransitionForm(forms.Form):
    """Move the ticket to one of the statuses the workflow allows next."""

    status = forms.ChoiceField(label="Status")
    resolution_code = forms.ChoiceField(
        label="Resolution", choices=[("", "Choose…"), *ResolutionCode.choices], required=False
    )
    resolution_notes = forms.CharField(
        label="Resolution notes",
        max_length=BODY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "status-%s")
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        self.allowed = workflow.allowed_next(ticket.kind, ticket.status)
        labels = dict(Status.choices)
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            (ticket.status, f"{labels[ticket.status]} (now)"),
            *((s, labels[s]) for s in self.allowed),
        ]
        self.initial.setdefault("status", ticket.status)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        status = data.get("status")
        if status == self.ticket.status and "status" not in self.errors:
            self.add_error("status", f"The ticket is already {Status(status).label.lower()}.")
        if status == Status.RESOLVED and not data.get("resolution_code"):
            self.add_error("resolution_code", "Resolving needs a resolution code.")
        return data


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Message",
        max_length=BODY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "Write a reply… (Markdown)"}),
    )
    visibility = forms.ChoiceField(
        label="Visible to",
        choices=[("public", "Public reply"), ("internal", "Internal note")],
        initial="public",
        widget=forms.RadioSelect,
    )
    attachments = MultipleFileField(label="Files", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "reply-%s")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("body") or "").strip() and not data.get("attachments") and not self.errors:
            self.add_error("body", "Write a message or attach a file.")
        return data

    @property
    def is_internal(self) -> bool:
        return self.cleaned_data.get("visibility") == "internal"


class AttachmentForm(forms.Form):
    attachments = MultipleFileField(label="Files")
    is_internal = forms.BooleanField(label="Internal (agents only)", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "files-%s")
        super().__init__(*args, **kwargs)


class MergeForm(forms.Form):
    target = key_field("Merge into", required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "merge-%s")
        super().__init__(*args, **kwargs)

    def clean_target(self) -> str:
        return clean_key(self.cleaned_data.get("target", ""))


LINK_CHOICES = [
    ("parent", "Parent"),
    ("child", "Child"),
    ("problem", "Caused by problem"),
    ("incident", "Incident of this problem"),
    ("change", "Change"),
]


class LinkForm(forms.Form):
    action = forms.ChoiceField(choices=[("add", "Link"), ("remove", "Unlink")], initial="add")
    relation = forms.ChoiceField(label="Relation", choices=LINK_CHOICES)
    other = key_field("Ticket", required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "link-%s")
        super().__init__(*args, **kwargs)

    def clean_other(self) -> str:
        return clean_key(self.cleaned_data.get("other", ""))


class WatcherForm(forms.Form):
    action = forms.ChoiceField(choices=[("add", "Add"), ("remove", "Remove")], initial="add")
    email = forms.EmailField(
        label="Add a watcher",
        widget=forms.EmailInput(attrs={"placeholder": "name@example.com"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "watcher-%s")
        super().__init__(*args, **kwargs)


# --- A new ticket ----------------------------------------------------------------------------


class NewTicketForm(forms.Form):
    field_order = [  # noqa: RUF012  # Django reads it as a class attribute
        "kind",
        "requester",
        "title",
        "description",
        "impact",
        "urgency",
        "category",
        "team",
        "assignee",
        "tags",
        "is_confidential",
        "attachments",
    ]
    kind = forms.ChoiceField(label="Kind", choices=TicketKind.choices, initial=TicketKind.INCIDENT)
    title = forms.CharField(label="Title", max_length=TITLE_MAX)
    description = forms.CharField(
        label="Description",
        max_length=BODY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown: **bold**, lists, `code`, links.",
    )
    requester = forms.EmailField(
        label="Requester",
        required=False,
        help_text="The member's e-mail. Leave empty to file it for yourself.",
    )
    impact = forms.TypedChoiceField(
        label="Impact", choices=Level.choices, coerce=int, initial=Level.LOW
    )
    urgency = forms.TypedChoiceField(
        label="Urgency", choices=Level.choices, coerce=int, initial=Level.LOW
    )
    team = forms.ChoiceField(label="Team", required=False)
    assignee = forms.ChoiceField(label="Assignee", required=False)
    category = forms.ChoiceField(label="Category", required=False)
    tags = forms.CharField(
        label="Tags", max_length=TAG_MAX * 52, required=False, help_text="Separated by spaces."
    )
    is_confidential = forms.BooleanField(
        label="Confidential (only you, the assignee and those granted see it)", required=False
    )
    attachments = MultipleFileField(label="Files", required=False)

    def __init__(self, *args: Any, choices: DeskChoices, members: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "new-%s")
        super().__init__(*args, **kwargs)
        self.choices = choices
        # The tenant's active members, as a queryset: looked up only on submit.
        self.members = members
        cast(forms.ChoiceField, self.fields["team"]).choices = [
            ("", "No team"),
            *((str(t.pk), t.name) for t in choices.teams),
        ]
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", "Unassigned"),
            *people_choices(choices.staff),
        ]
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            ("", "None"),
            *((str(c.pk), c.name) for c in choices.categories),
        ]

    def clean_requester(self) -> User | None:
        email = self.cleaned_data.get("requester")
        if not email:
            return None
        found = self.members.filter(email__iexact=email).first()
        if found is None:
            raise ValidationError(f"{email} is not an active member of this organisation.")
        return cast(User, found)

    def clean_team(self) -> Team | None:
        return self.choices.team(self.cleaned_data.get("team"))

    def clean_assignee(self) -> User | None:
        return self.choices.person(self.cleaned_data.get("assignee"))

    def clean_category(self) -> Category | None:
        return self.choices.category(self.cleaned_data.get("category"))

    def clean_tags(self) -> list[str]:
        return split_tags(self.cleaned_data.get("tags", ""))
