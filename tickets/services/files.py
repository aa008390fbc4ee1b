"""Attachments: names made safe, types sniffed from the bytes, sizes bounded,
files removed again when the transaction fails."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import datetime
from typing import IO

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from tickets.hooks import Happened
from tickets.models import (
    Attachment,
    Comment,
    Status,
    Ticket,
)
from tickets.services.actors import Actor, _require_same_tenant
from tickets.services.common import (
    _files_removed_on_error,
    _publish,
    _record,
    _touch,
    _written_files,
)

# --- Files -----------------------------------------------------------------------------------

_UNSAFE_NAME_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def sanitize_filename(name: str) -> str:
    """A file name safe to show and to offer for download: no path, no
    control or bidi characters, no leading dots, at most 150 characters
    (the extension kept)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if unicodedata.category(ch) in _UNSAFE_NAME_CATEGORIES else ch for ch in name
    )
    for ch in '<>:"|?*;':
        name = name.replace(ch, "_")
    name = " ".join(name.split()).lstrip(". ")
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot else ""
        name = (stem if dot else name)[: 150 - len(ext) - 1] + (f".{ext}" if ext else "")
    return name or "attachment"


def sniff_content_type(head: bytes) -> str:
    """The file's type from its first bytes, never from its name or the
    browser's claim: a known binary format, else text if it decodes as
    UTF-8, else ``application/octet-stream``."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the end of the sample is still text.
        try:
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return "application/octet-stream"
    return "text/plain"


def _store_attachment(
    ticket: Ticket,
    actor: Actor,
    upload: IO[bytes],
    *,
    comment: Comment | None,
    is_internal: bool,
    at: datetime,
) -> Attachment:
    limit = settings.TICKET_ATTACHMENT_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    upload.seek(0)
    name = sanitize_filename(getattr(upload, "name", "") or "")
    if size == 0:
        raise ValidationError({"attachments": f"{name} is empty."})
    if size > limit:
        raise ValidationError(
            {
                "attachments": f"{name} is {size / 1_048_576:.1f} MB; "
                f"the limit is {limit / 1_048_576:.0f} MB."
            }
        )
    digest = hashlib.sha256()
    head = b""
    while chunk := upload.read(1 << 20):
        if len(head) < 8192:
            head += chunk[: 8192 - len(head)]
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        tenant_id=ticket.tenant_id,
        ticket=ticket,
        comment=comment,
        filename=name,
        size=size,
        content_type=sniff_content_type(head),
        sha256=digest.hexdigest(),
        uploaded_by=actor.user,
        is_internal=is_internal,
        created_at=at,
    )
    attachment.file.save(name, File(upload), save=False)
    written = _written_files.get()
    if written is not None and attachment.file.name:
        written.append((attachment.file.storage, attachment.file.name))
    attachment.save()
    _record(
        ticket,
        actor,
        "attached",
        field="attachment",
        new=name,
        at=at,
        note="internal" if is_internal else "",
    )
    return attachment


@_files_removed_on_error()
@transaction.atomic
def attachment_add(
    *, actor: Actor, ticket: Ticket, upload: IO[bytes], is_internal: bool = False
) -> Attachment:
    """Attach a file to the ticket (internal ones for agents only)."""
    _require_same_tenant(actor, ticket)
    if is_internal and not actor.is_staff:
        raise ValidationError({"internal": "Only agents can add internal files."})
    ticket = Ticket.objects.for_tenant(ticket.tenant_id).select_for_update().get(pk=ticket.pk)
    if ticket.status in (Status.CLOSED, Status.CANCELLED) and not actor.is_staff:
        raise ValidationError({"attachments": f"{ticket.key} is {ticket.status}."})
    now = timezone.now()
    attachment = _store_attachment(
        ticket, actor, upload, comment=None, is_internal=is_internal, at=now
    )
    _touch(ticket, now)
    _publish(ticket, actor, Happened.ATTACHED, is_public=not is_internal)
    return attachment
