"""What the search layer stores: one document per searchable object.

Each kind (a ticket, an article) writes its document through
``servicedesk.search.index_document`` in the same transaction as the change;
the database turns it into what it searches: on PostgreSQL two weighted
``tsvector`` columns kept by a trigger (``vector`` for what everyone who may
see the object may find, ``internal_vector`` for the staff-only text), on
SQLite an FTS5 table kept by triggers. Neither appears on the model: the
ORM never reads them, the engine's SQL does.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone

from servicedesk.tenancy import TenantOwned


class Language(models.TextChoices):
    """PostgreSQL text-search configurations a tenant may choose for its prose.

    Keys, tags, names and e-mail addresses are always indexed with ``simple``
    (no stemming, no stop words), and every query is also matched as
    ``simple``, so an exact token is found whatever the language."""

    ENGLISH = "english", "English"
    GERMAN = "german", "German"
    FRENCH = "french", "French"
    SPANISH = "spanish", "Spanish"
    DUTCH = "dutch", "Dutch"
    SIMPLE = "simple", "No language (exact words)"


class SearchSettings(TenantOwned):
    """A tenant's search language."""

    language = models.CharField(max_length=16, choices=Language.choices, default=Language.ENGLISH)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant"], name="search_settings_tenant_unique"),
            models.CheckConstraint(
                condition=models.Q(language__in=Language.values),
                name="search_settings_language_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Search in {self.language} for {self.tenant_id}"


class SearchDocument(TenantOwned):
    """The searchable text of one object: ``title`` (weight A), ``keywords``
    (B: key, tags, names, e-mail addresses), ``body`` (C) and ``internal``
    (C, found and shown only by readers the kind lets see internal text).

    ``is_restricted`` marks an object only some of its usual readers may see
    (a confidential ticket, a team-only article): the kind's ``restrict``
    decides who, and unrestricted documents skip that check. ``is_public``
    marks one every member may find."""

    kind = models.CharField(max_length=32)
    object_id = models.BigIntegerField()
    title = models.CharField(max_length=300)
    keywords = models.TextField(blank=True)
    body = models.TextField(blank=True)
    internal = models.TextField(blank=True)
    language = models.CharField(max_length=16, choices=Language.choices, default=Language.ENGLISH)
    is_restricted = models.BooleanField(default=False)
    # Findable by every requester of the tenant (a published article for
    # requesters): their search needs no other check.
    is_public = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    # No row-level policy on this table: a policy's qual is a security
    # barrier, and PostgreSQL may not evaluate a non-leakproof operator such
    # as ``@@`` or ``<%`` before it, so the GIN indexes could never be used and
    # every search scanned the whole tenant (220 ms instead of 11 ms at 300,000
    # documents). The ORM guard still refuses an unscoped read, and every
    # query of the engine pins ``tenant_id`` in the WHERE it compiles with
    # ``for_tenant``; what a document may show is decided per kind on top.
    row_level_security: ClassVar[bool] = False

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "object_id"], name="search_document_object_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"
