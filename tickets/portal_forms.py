"""Forms of the requesters' portal: report a problem or ask for something, reply.

The forms speak the requester's language ("how many people are affected?");
the views translate the answers into impact and urgency for the service.
Files are checked here too, so every problem with a report shows at once,
and again by the service, which alone decides what is stored.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from tickets.models import Level, TicketKind
from tickets.services import BODY_MAX, TITLE_MAX, sanitize_filename

# Help texts are rendered as HTML by Django's field template; these are ours, not typed by anyone.
MARKDOWN_HINT = (
    "You can format with Markdown: <code>**bold**</code>, <code>*italics*</code>, "
    "lists starting with <code>- </code>, <code>`code`</code> and links."
)

KIND_CHOICES = [
    (TicketKind.INCIDENT.value, "Something is broken or not working"),
    (TicketKind.REQUEST.value, "I need something (access, equipment, information)"),
]

# "How many people are affected?" -> impact (1 is the widest).
AFFECTED_IMPACT = {"me": Level.LOW, "team": Level.MEDIUM, "many": Level.HIGH}
AFFECTED_CHOICES = [
    ("me", "Just me"),
    ("team", "My team"),
    ("many", "Many people or the whole organisation"),
]

URGENCY_CHOICES = [
    (Level.HIGH.value, "High — I can't work, or a deadline is at risk"),
    (Level.MEDIUM.value, "Medium — it slows me down"),
    (Level.LOW.value, "Low — it can wait"),
]


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Any number of files (``<input type=file multiple>``), each checked for
    emptiness and size, with the file named in the message."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Attachments")
        super().__init__(allow_empty_file=True, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        uploads = [d for d in (data if isinstance(data, list | tuple) else [data]) if d]
        limit = settings.TICKET_ATTACHMENT_MAX_BYTES
        errors: list[str] = []
        for upload in uploads:
            super().clean(upload, initial)
            name = sanitize_filename(upload.name or "")
            if not upload.size:
                errors.append(f"“{name}” is empty. Choose the file again, or leave it out.")
            elif upload.size > limit:
                errors.append(
                    f"“{name}” is {filesizeformat(upload.size)}; "
                    f"files can be at most {filesizeformat(limit)}."
                )
        if errors:
            raise forms.ValidationError(errors)
        return uploads


def attachments_help() -> str:
    limit = filesizeformat(settings.TICKET_ATTACHMENT_MAX_BYTES)
    return f"Screenshots, logs or documents; you can choose several. Up to {limit} each."


class ReportForm(forms.Form):
    """A new incident or request, as a requester describes it."""

    kind = forms.ChoiceField(
        label="What is it about?",
        choices=KIND_CHOICES,
        initial=TicketKind.INCIDENT,
        widget=forms.RadioSelect,
    )
    title = forms.CharField(
        label="Summary",
        max_length=TITLE_MAX,
        error_messages={"required": "Give it a short summary, in one line."},
        help_text="One line, e.g. “VPN drops every few minutes” or “Access to the sales report”.",
    )
    description = forms.CharField(
        label="Details",
        required=False,
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What happened, what you expected, any error message. " + MARKDOWN_HINT,
    )
    affected = forms.ChoiceField(
        label="How many people are affected?",
        choices=AFFECTED_CHOICES,
        initial="me",
        widget=forms.RadioSelect,
    )
    urgency = forms.TypedChoiceField(
        label="How urgent is it?",
        choices=URGENCY_CHOICES,
        coerce=int,
        initial=Level.MEDIUM,
        widget=forms.RadioSelect,
    )
    attachments = AttachmentsField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachments_help()

    @property
    def impact(self) -> int:
        return AFFECTED_IMPACT[self.cleaned_data["affected"]]


class ReplyForm(forms.Form):
    """A public reply, with files. ``reopen`` asks for words: an agent
    reopening a ticket needs to know what is still wrong."""

    body = forms.CharField(
        label="Your reply",
        required=False,
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=MARKDOWN_HINT,
    )
    attachments = AttachmentsField()

    def __init__(self, *args: Any, reopen: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.reopen = reopen
        self.fields["attachments"].help_text = attachments_help()
        if reopen:
            self.fields["body"].label = "What is still not working?"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        body = (data.get("body") or "").strip()
        if "body" not in data or body:
            return data
        if self.reopen:
            self.add_error("body", "Tell us what is still wrong, so we can pick it up again.")
        elif "attachments" in data and not data["attachments"]:
            self.add_error("body", "Write a reply or attach a file.")
        return data
