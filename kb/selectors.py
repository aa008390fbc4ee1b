"""Reads of the knowledge base, always inside one tenant and within what the reader may see.

Who reads what:

* requesters (and anyone in the portal) read published articles whose
  audience is requesters;
* agents and leads read every article for requesters or agents, whatever
  its status, the team-only ones of their teams, and their own;
* admins read every article of their tenant.
"""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from kb.models import Article, ArticleLink, ArticleStatus, Audience, Feedback, ReviewStep, Revision
from servicedesk.models import Membership, Role, Team


def _team_member(membership: Membership) -> Exists:
    return Exists(
        Team.objects.for_tenant(membership.tenant_id).filter(
            pk__in=Article.teams.through.objects.filter(article=OuterRef(OuterRef("pk"))).values(
                "team_id"
            ),
            members=membership.user,
        )
    )


def visible_articles(membership: Membership, *, portal: bool = False) -> QuerySet[Article]:
    """Every article of the member's tenant they may read (``portal``: as a requester)."""
    articles = Article.objects.for_tenant(membership.tenant_id)
    if portal or not membership.is_agent:
        return articles.filter(status=ArticleStatus.PUBLISHED, audience=Audience.REQUESTERS)
    if membership.is_admin:
        return articles
    return articles.filter(
        Q(audience__in=(Audience.REQUESTERS, Audience.AGENTS))
        | Q(owner=membership.user)
        | (Q(audience=Audience.TEAMS) & _team_member(membership))
    )


def get_article_for(membership: Membership, article_id: int, *, portal: bool = False) -> Article:
    """The article if the member may read it; the same 404 for "missing",
    "another tenant's" and "not yours"."""
    found = (
        visible_articles(membership, portal=portal)
        .select_related("owner", "owner_team", "source_ticket")
        .filter(pk=article_id)
        .first()
    )
    if found is None:
        raise Http404("No such article")
    return found


def can_edit(membership: Membership, article: Article) -> bool:
    return membership.is_agent and article.status != ArticleStatus.ARCHIVED


def can_review(membership: Membership, article: Article) -> bool:
    """Leads and admins review; so does the owner's team, for someone else's article."""
    if membership.has_role(Role.LEAD):
        return True
    if not membership.is_agent or article.owner_team_id is None:
        return False
    if article.owner_id == membership.user_id:
        return False
    return (
        Team.objects.for_tenant(membership.tenant_id)
        .filter(pk=article.owner_team_id, members=membership.user)
        .exists()
    )


def article_list(
    *, membership: Membership, status: str = "", overdue: bool = False, mine: bool = False
) -> QuerySet[Article]:
    """The desk's list: with each article's linked-ticket count, in one query."""
    articles = visible_articles(membership)
    if status in ArticleStatus.values:
        articles = articles.filter(status=status)
    if overdue:
        articles = articles.filter(is_overdue=True)
    if mine:
        articles = articles.filter(owner=membership.user)
    return (
        articles.select_related("owner")
        .annotate(linked_tickets=Count("links"))
        .order_by("-updated_at", "-pk")
    )


def overdue_articles(*, membership: Membership) -> QuerySet[Article]:
    """Overdue for review: the owner's own; every one a lead may review."""
    articles = article_list(membership=membership, overdue=True)
    if not membership.has_role(Role.LEAD):
        articles = articles.filter(owner=membership.user)
    return articles.order_by("review_due", "pk")


def article_revisions(*, article: Article) -> QuerySet[Revision]:
    return (
        Revision.objects.for_tenant(article.tenant_id)
        .filter(article=article)
        .select_related("author")
        .order_by("-number")
    )


def get_revision(*, article: Article, number: int) -> Revision:
    found = article_revisions(article=article).filter(number=number).first()
    if found is None:
        raise Http404("No such revision")
    return found


def review_history(*, article: Article) -> QuerySet[ReviewStep]:
    return (
        ReviewStep.objects.for_tenant(article.tenant_id)
        .filter(article=article)
        .select_related("actor")
        .order_by("-created_at", "-pk")
    )


def linked_ticket_count(*, article: Article) -> int:
    return ArticleLink.objects.for_tenant(article.tenant_id).filter(article=article).count()


def articles_linked_to(*, membership: Membership, ticket_id: int) -> QuerySet[Article]:
    return visible_articles(membership).filter(
        pk__in=ArticleLink.objects.for_tenant(membership.tenant_id)
        .filter(ticket_id=ticket_id)
        .values("article_id")
    )


def reader_feedback(*, membership: Membership, article: Article) -> Feedback | None:
    return (
        Feedback.objects.for_tenant(article.tenant_id)
        .filter(article=article, user=membership.user)
        .first()
    )


def article_feedback(*, article: Article) -> QuerySet[Feedback]:
    return (
        Feedback.objects.for_tenant(article.tenant_id)
        .filter(article=article)
        .select_related("user")
        .order_by("-created_at", "-pk")
    )


def portal_reader(membership: Membership) -> Membership:
    """The member as the portal reads: a requester, whatever their role
    (an unsaved copy, for the search layer's visibility rules)."""
    return Membership(
        pk=membership.pk,
        tenant_id=membership.tenant_id,
        user=membership.user,
        role=Role.REQUESTER,
        is_active=membership.is_active,
    )
