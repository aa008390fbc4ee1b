"""Every write to the knowledge base: articles and their revisions, the
review cycle, feedback, views and deflections, links to tickets.

Each service runs in one transaction that also rewrites the article's search
document, so search never finds what the article no longer says.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from kb import selectors
from kb.models import (
    Article,
    ArticleLink,
    ArticleStatus,
    Audience,
    Deflection,
    Feedback,
    ReviewNotice,
    ReviewStep,
    Revision,
)
from kb.search import index_article
from servicedesk.links import absolute_url
from servicedesk.models import Membership, Role, Team
from tickets.hooks import Happened, TicketChange
from tickets.models import Tag, Ticket

logger = logging.getLogger(__name__)

# How long a published article stays good before its owner must look again.
REVIEW_PERIOD = timedelta(days=180)
# Opening a suggested article and filing a ticket within this long after is
# not a deflection: the article did not answer.
DEFLECTION_WINDOW = timedelta(minutes=30)
TAG_MAX = 10
TITLE_MAX = 200
BODY_MAX = 100_000


@dataclass(frozen=True)
class ArticleFields:
    title: str
    body: str = ""
    category: str = ""
    tags: Sequence[str] = ()
    audience: str = Audience.AGENTS
    teams: Sequence[Team] = ()
    owner_team: Team | None = None
    review_due: date | None = None


def _require_staff(actor: Membership) -> None:
    if not actor.is_agent:
        raise PermissionDenied("Only agents write knowledge-base articles.")


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        slug = slugify(str(tag), allow_unicode=True)[:50]
        if slug and slug not in cleaned:
            cleaned.append(slug)
    if len(cleaned) > TAG_MAX:
        raise ValidationError({"tags": f"At most {TAG_MAX} tags."})
    return cleaned


def _validate(actor: Membership, fields: ArticleFields) -> list[str]:
    errors = {}
    if not fields.title.strip():
        errors["title"] = "Give the article a title."
    elif len(fields.title) > TITLE_MAX:
        errors["title"] = f"At most {TITLE_MAX} characters."
    if len(fields.body) > BODY_MAX:
        errors["body"] = f"At most {BODY_MAX:,} characters."
    if "\x00" in fields.title + fields.body + fields.category:
        errors["body"] = "The text holds a NUL character."
    if fields.audience not in Audience.values:
        errors["audience"] = "Choose who may read it."
    elif fields.audience == Audience.TEAMS and not fields.teams:
        errors["teams"] = "Name at least one team that may read it."
    for team in [*fields.teams, *([fields.owner_team] if fields.owner_team else [])]:
        if team.tenant_id != actor.tenant_id:
            errors["teams"] = "No such team."
    if errors:
        raise ValidationError(errors)
    return _clean_tags(fields.tags)


def _set_teams(article: Article, teams: Sequence[Team]) -> None:
    # The join table directly: the related manager's own read of Team has no tenant.
    through = Article.teams.through
    through.objects.filter(article=article).delete()
    through.objects.bulk_create([through(article=article, team=team) for team in teams])


def _revise(
    article: Article, actor: Membership, note: str = "", now: datetime | None = None
) -> Revision:
    last = (
        Revision.objects.for_tenant(article.tenant_id)
        .filter(article=article)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return Revision.objects.create(
        tenant_id=article.tenant_id,
        article=article,
        number=(last or 0) + 1,
        title=article.title,
        body=article.body,
        category=article.category,
        tags=list(article.tags),
        author=actor.user,
        note=note[:200],
        created_at=now or timezone.now(),
    )


@transaction.atomic
def article_create(
    *, actor: Membership, fields: ArticleFields, source_ticket: Ticket | None = None
) -> Article:
    """A new draft owned by the actor, with its first revision."""
    _require_staff(actor)
    tags = _validate(actor, fields)
    now = timezone.now()
    article = Article.objects.create(
        tenant_id=actor.tenant_id,
        title=fields.title.strip(),
        body=fields.body,
        category=fields.category.strip()[:80],
        tags=tags,
        owner=actor.user,
        owner_team=fields.owner_team,
        audience=fields.audience,
        review_due=fields.review_due,
        source_ticket=source_ticket,
        created_at=now,
        updated_at=now,
    )
    _set_teams(article, fields.teams if fields.audience == Audience.TEAMS else [])
    _revise(article, actor, "Created", now)
    if source_ticket is not None:
        ArticleLink.objects.create(
            tenant_id=actor.tenant_id, article=article, ticket=source_ticket, linked_by=actor.user
        )
    index_article(article)
    return article


def _locked(article: Article) -> Article:
    return Article.objects.for_tenant(article.tenant_id).select_for_update().get(pk=article.pk)


@transaction.atomic
def article_update(*, actor: Membership, article: Article, fields: ArticleFields) -> Article:
    """Save the article's new text and settings; a change of text is a new revision."""
    _require_staff(actor)
    article = _locked(article)
    if not selectors.can_edit(actor, article):
        raise PermissionDenied("An archived article cannot be edited.")
    tags = _validate(actor, fields)
    text_changed = (article.title, article.body, article.category, list(article.tags)) != (
        fields.title.strip(),
        fields.body,
        fields.category.strip()[:80],
        tags,
    )
    article.title = fields.title.strip()
    article.body = fields.body
    article.category = fields.category.strip()[:80]
    article.tags = tags
    article.audience = fields.audience
    article.owner_team = fields.owner_team
    article.review_due = fields.review_due
    article.updated_at = timezone.now()
    article.save()
    _set_teams(article, fields.teams if fields.audience == Audience.TEAMS else [])
    if text_changed:
        _revise(article, actor, "Edited", article.updated_at)
    index_article(article)
    return article


@transaction.atomic
def revision_restore(*, actor: Membership, article: Article, revision: Revision) -> Article:
    """Bring back an old revision's text, as a new revision (history is never rewritten)."""
    _require_staff(actor)
    article = _locked(article)
    if not selectors.can_edit(actor, article):
        raise PermissionDenied("An archived article cannot be edited.")
    if revision.article_id != article.pk:
        raise ValidationError({"revision": "No such revision."})
    article.title = revision.title
    article.body = revision.body
    article.category = revision.category
    article.tags = list(revision.tags)
    article.updated_at = timezone.now()
    article.save()
    _revise(article, actor, f"Restored revision {revision.number}", article.updated_at)
    index_article(article)
    return article


def revision_diff(old: Revision, new: Revision) -> list[tuple[str, str]]:
    """The lines that changed between two revisions, as (``"+"``, ``"-"`` or
    ``" "``, line) pairs with three lines of context; the title first."""
    lines: list[tuple[str, str]] = []
    before = [f"# {old.title}", "", *old.body.splitlines()]
    after = [f"# {new.title}", "", *new.body.splitlines()]
    for line in difflib.unified_diff(before, after, lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            lines.append(("@", line))
        else:
            lines.append((line[:1], line[1:]))
    return lines


def _step(article: Article, actor: Membership, decision: str, comment: str = "") -> None:
    ReviewStep.objects.create(
        tenant_id=article.tenant_id,
        article=article,
        actor=actor.user,
        decision=decision,
        comment=comment,
    )


@transaction.atomic
def article_submit(*, actor: Membership, article: Article) -> Article:
    """An author asks for review: draft → in review."""
    _require_staff(actor)
    article = _locked(article)
    if article.status != ArticleStatus.DRAFT:
        raise ValidationError({"status": "Only a draft can be submitted for review."})
    article.status = ArticleStatus.IN_REVIEW
    article.updated_at = timezone.now()
    article.save(update_fields=["status", "updated_at"])
    _step(article, actor, ReviewStep.Decision.SUBMITTED)
    index_article(article)
    return article


@transaction.atomic
def article_review(
    *, actor: Membership, article: Article, publish: bool, comment: str = ""
) -> Article:
    """A reviewer publishes the article (its next review falls due a period
    from now) or sends it back to draft with a comment saying why; a
    published article's review confirms it, for another period."""
    article = _locked(article)
    if not selectors.can_review(actor, article):
        raise PermissionDenied("Leads and the owner's team review articles.")
    # A published article is reviewed in place when its review falls due:
    # confirming it renews the period; it stays readable meanwhile.
    if not (
        article.status == ArticleStatus.IN_REVIEW
        or (article.status == ArticleStatus.PUBLISHED and publish)
    ):
        raise ValidationError({"status": "Only an article in review can be reviewed."})
    comment = comment.strip()[:2000]
    now = timezone.now()
    if publish:
        article.status = ArticleStatus.PUBLISHED
        article.published_at = article.published_at or now
        article.last_reviewed_at = now
        article.review_due = (now + REVIEW_PERIOD).date()
        article.is_overdue = False
        decision = ReviewStep.Decision.PUBLISHED
    else:
        if not comment:
            raise ValidationError({"comment": "Say what the author should change."})
        article.status = ArticleStatus.DRAFT
        decision = ReviewStep.Decision.SENT_BACK
    article.review_comment = comment
    article.updated_at = now
    article.save()
    _step(article, actor, decision, comment)
    index_article(article)
    return article


@transaction.atomic
def article_archive(*, actor: Membership, article: Article) -> Article:
    article = _locked(article)
    if not (actor.has_role(Role.LEAD) or article.owner_id == actor.user_id):
        raise PermissionDenied("Leads and the owner archive articles.")
    if article.status == ArticleStatus.ARCHIVED:
        return article
    article.status = ArticleStatus.ARCHIVED
    article.is_overdue = False
    article.updated_at = timezone.now()
    article.save()
    _step(article, actor, ReviewStep.Decision.ARCHIVED)
    index_article(article)
    return article


# --- Readers ----------------------------------------------------------------------------


@transaction.atomic
def article_viewed(*, reader: Membership, article: Article, from_report: bool = False) -> None:
    """Count a view; opened from the new-incident form, also a deflection
    (withdrawn if the reader files a ticket soon after)."""
    Article.objects.for_tenant(article.tenant_id).filter(pk=article.pk).update(views=F("views") + 1)
    if from_report and not (
        Deflection.objects.for_tenant(article.tenant_id)
        .filter(
            article=article,
            user=reader.user,
            ticket_filed=False,
            created_at__gte=timezone.now() - DEFLECTION_WINDOW,
        )
        .exists()
    ):
        Deflection.objects.create(tenant_id=article.tenant_id, article=article, user=reader.user)
        Article.objects.for_tenant(article.tenant_id).filter(pk=article.pk).update(
            deflections=F("deflections") + 1
        )


@transaction.atomic
def feedback_give(
    *, reader: Membership, article: Article, is_helpful: bool, comment: str = ""
) -> Feedback:
    """ "Did this solve your problem?" — a second answer replaces the first."""
    if "\x00" in comment:
        raise ValidationError({"comment": "The comment holds a NUL character."})
    comment = comment.strip()[:2000]
    article = _locked(article)
    found = (
        Feedback.objects.for_tenant(article.tenant_id)
        .select_for_update()
        .filter(article=article, user=reader.user)
        .first()
    )
    counts = Article.objects.for_tenant(article.tenant_id).filter(pk=article.pk)
    if found is not None and found.is_helpful != is_helpful:
        counts.update(
            helpful_yes=F("helpful_yes") + (1 if is_helpful else -1),
            helpful_no=F("helpful_no") + (-1 if is_helpful else 1),
        )
    elif found is None:
        counts.update(
            helpful_yes=F("helpful_yes") + int(is_helpful),
            helpful_no=F("helpful_no") + int(not is_helpful),
        )
    if found is None:
        return Feedback.objects.create(
            tenant_id=article.tenant_id,
            article=article,
            user=reader.user,
            is_helpful=is_helpful,
            comment=comment,
        )
    found.is_helpful = is_helpful
    found.comment = comment
    found.created_at = timezone.now()
    found.save()
    return found


def deflections_withdraw(change: TicketChange) -> None:
    """A ticket hook (after commit): the member who just filed a ticket was
    not deflected by the articles they opened from the form shortly before."""
    if change.actor_user_id is None:
        return
    since = timezone.now() - DEFLECTION_WINDOW
    with transaction.atomic():
        pending = list(
            Deflection.objects.for_tenant(change.tenant_id)
            .select_for_update()
            .filter(user_id=change.actor_user_id, ticket_filed=False, created_at__gte=since)
            .order_by("pk")
        )
        for deflection in pending:
            deflection.ticket_filed = True
            deflection.save(update_fields=["ticket_filed"])
            Article.objects.for_tenant(change.tenant_id).filter(
                pk=deflection.article_id, deflections__gt=0
            ).update(deflections=F("deflections") - 1)


def subscribe() -> None:
    from tickets import hooks

    hooks.subscribe(
        "kb.deflections",
        deflections_withdraw,
        order=60,
        phase=hooks.Phase.AFTER_COMMIT,
        happened=(Happened.CREATED,),
    )


# --- Agents and tickets -----------------------------------------------------------------


@transaction.atomic
def article_link(*, actor: Membership, article: Article, ticket: Ticket) -> ArticleLink:
    _require_staff(actor)
    if article.tenant_id != actor.tenant_id or ticket.tenant_id != actor.tenant_id:
        raise ValidationError({"article": "No such article."})
    link, _ = ArticleLink.objects.for_tenant(actor.tenant_id).get_or_create(
        tenant_id=actor.tenant_id,
        article=article,
        ticket=ticket,
        defaults={"linked_by": actor.user},
    )
    return link


def article_from_ticket(*, actor: Membership, ticket: Ticket) -> Article:
    """A draft prefilled from the ticket's problem and its resolution."""
    parts = ["## Problem", "", ticket.description.strip() or ticket.title, ""]
    parts += ["## Solution", "", ticket.resolution_notes.strip() or "_Describe the fix._", ""]
    tags = list(
        Tag.objects.for_tenant(ticket.tenant_id)
        .filter(tickettag__ticket=ticket)
        .order_by("name")
        .values_list("name", flat=True)
    )
    return article_create(
        actor=actor,
        fields=ArticleFields(
            title=ticket.title,
            body="\n".join(parts),
            category=ticket.category.name if ticket.category else "",
            tags=tags,
            audience=Audience.AGENTS,
            owner_team=ticket.team,
        ),
        source_ticket=ticket,
    )


# --- The review cycle -------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueSweep:
    marked: int
    notices: int


def articles_mark_overdue(*, today: date | None = None, limit: int = 500) -> OverdueSweep:
    """Sweeper: mark published articles past their review date overdue and
    write their owners one notice per review period to the outbox.

    Cross-tenant by nature (``unscoped``); rows are locked in key order and
    skipped when another sweeper holds them, and the notice's unique
    (article, period) makes a second run a no-op."""
    today = today or timezone.localdate()
    marked = notices = 0
    with transaction.atomic():
        due = list(
            Article.objects.unscoped()
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("owner", "tenant")
            .filter(status=ArticleStatus.PUBLISHED, review_due__lt=today)
            .exclude(is_overdue=True, overdue_notified_for=F("review_due"))
            .order_by("pk")[:limit]
        )
        created: list[int] = []
        for article in due:
            if not article.is_overdue:
                article.is_overdue = True
                marked += 1
            if article.overdue_notified_for != article.review_due and article.owner is not None:
                notice, made = ReviewNotice.objects.unscoped().get_or_create(
                    tenant_id=article.tenant_id,
                    article=article,
                    period=article.review_due,
                    defaults={
                        "recipient": article.owner.email,
                        "subject": f"[{article.key}] Review due: {article.title}"[:300],
                        "body": _notice_body(article),
                    },
                )
                if made:
                    notices += 1
                    created.append(notice.pk)
            article.overdue_notified_for = article.review_due
            article.save(update_fields=["is_overdue", "overdue_notified_for"])
        if created:
            transaction.on_commit(lambda: _deliver_later(created), robust=True)
    return OverdueSweep(marked=marked, notices=notices)


def _notice_body(article: Article) -> str:
    url = absolute_url(f"/t/{article.tenant.slug}/desk/kb/{article.pk}/")
    return (
        f"The article “{article.title}” was due for review on {article.review_due:%d %B %Y}.\n\n"
        "Please check that it is still right, then send it for review again "
        "(or archive it if it is no longer needed):\n\n"
        f"{url}\n"
    )


def _deliver_later(notice_ids: list[int]) -> None:
    """Queue delivery by task name (tasks sit above services); a broker that
    cannot take it is logged, and the hourly sweep sends the notice later."""
    try:
        task = current_app.tasks["kb.deliver_review_notice"]
        for notice_id in notice_ids:
            task.delay(notice_id)
    except Exception:
        logger.exception("could not queue review notices %s", notice_ids)


def review_notice_deliver(*, notice_id: int) -> bool:
    """Send one notice; idempotent (a sent notice is left alone)."""
    with transaction.atomic():
        notice = ReviewNotice.objects.unscoped().select_for_update().filter(pk=notice_id).first()
        if notice is None or notice.sent_at is not None:
            return False
        notice.attempts += 1
        send_mail(notice.subject, notice.body, settings.DEFAULT_FROM_EMAIL, [notice.recipient])
        notice.sent_at = timezone.now()
        notice.save(update_fields=["attempts", "sent_at"])
        return True


def review_notices_owed(*, limit: int = 200) -> list[int]:
    return list(
        ReviewNotice.objects.unscoped()
        .filter(sent_at__isnull=True, attempts__lt=10)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
