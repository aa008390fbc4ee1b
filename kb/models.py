"""The knowledge base: articles with every save kept as a revision, their
review cycle, the readers' feedback, deflections and links to tickets.

Every write goes through ``kb.services``; reads through ``kb.selectors``,
which also hold who may see what.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from servicedesk.tenancy import TenantOwned


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Audience(models.TextChoices):
    """Who may read an article (staff who may edit it see it whatever its status)."""

    REQUESTERS = "requesters", "Everyone (requesters too, once published)"
    AGENTS = "agents", "Agents only"
    TEAMS = "teams", "Only the named teams"


class Article(TenantOwned):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    category = models.CharField(max_length=80, blank=True)
    tags = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner_team = models.ForeignKey(
        "servicedesk.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.AGENTS)
    # For ``Audience.TEAMS``: the teams whose members may read it.
    teams = models.ManyToManyField("servicedesk.Team", blank=True, related_name="+")
    review_due = models.DateField(null=True, blank=True)
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    # Set by the review sweeper; cleared when the article is reviewed.
    is_overdue = models.BooleanField(default=False)
    # The review period (its ``review_due``) the owner was last told about:
    # one notice per period, however often the sweeper runs.
    overdue_notified_for = models.DateField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    source_ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    views = models.PositiveIntegerField(default=0)
    helpful_yes = models.PositiveIntegerField(default=0)
    helpful_no = models.PositiveIntegerField(default=0)
    deflections = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["tenant", "status", "-updated_at"]),
            models.Index(fields=["tenant", "owner"]),
            # The review sweeper reads only published articles that fell due.
            models.Index(
                fields=["review_due"],
                name="kb_article_review_due_idx",
                condition=models.Q(status="published"),
            ),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(status__in=ArticleStatus.values), name="kb_article_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(audience__in=Audience.values), name="kb_article_audience_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def key(self) -> str:
        return f"KB-{self.pk}"

    @property
    def tag_text(self) -> str:
        return " ".join(self.tags or [])

    def age_days(self, today: date | None = None) -> int:
        return ((today or timezone.localdate()) - self.created_at.date()).days


class Revision(TenantOwned):
    """What an article said after one save. Numbered 1, 2, … per article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    category = models.CharField(max_length=80, blank=True)
    tags = models.JSONField(default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "article", "number"], name="kb_revision_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} r{self.number}"


class ReviewStep(TenantOwned):
    """One step of an article's review: submitted, published, sent back, archived."""

    class Decision(models.TextChoices):
        SUBMITTED = "submitted", "Submitted for review"
        PUBLISHED = "published", "Published"
        SENT_BACK = "sent_back", "Sent back"
        ARCHIVED = "archived", "Archived"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="review_steps")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision = models.CharField(max_length=16, choices=Decision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["tenant", "article", "created_at"])]

    def __str__(self) -> str:
        return f"{self.article_id} {self.decision}"


class Feedback(TenantOwned):
    """ "Did this solve your problem?" — one answer per reader and article
    (answering again changes it)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    is_helpful = models.BooleanField()
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "article", "user"], name="kb_feedback_once_per_reader"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} {'yes' if self.is_helpful else 'no'}"


class Deflection(TenantOwned):
    """A requester opened an article from the new-incident form. It counts
    as a deflection unless they file a ticket soon after (``ticket_filed``)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ticket_filed = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["tenant", "user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.article_id} by {self.user_id}"


class ArticleLink(TenantOwned):
    """An article linked to a ticket it answers."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="links")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "article", "ticket"], name="kb_link_once_per_ticket"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["tenant", "ticket"])]

    def __str__(self) -> str:
        return f"{self.article_id} → {self.ticket_id}"


class ReviewNotice(TenantOwned):
    """The outbox of the review cycle: one e-mail to an article's owner per
    review period (``period`` is the ``review_due`` that passed), written in
    the sweeper's transaction and delivered by a task that retries."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    period = models.DateField()
    recipient = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "article", "period"], name="kb_notice_once_per_period"
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["created_at"],
                name="kb_notice_owed_idx",
                condition=models.Q(sent_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} due {self.period}"
