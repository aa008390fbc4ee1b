"""Articles in the search layer: their documents and who may find which.

Title (A), tags and category (B), body (C); no internal part. A published
article for requesters is public (every member may find it); a team-only
article is restricted to those ``kb.selectors`` lets read it.
"""

from __future__ import annotations

from django.db.models import Q

from kb.models import Article, ArticleStatus, Audience
from kb.selectors import visible_articles
from servicedesk.models import Membership
from servicedesk.search import engine

KIND = "article"


def article_document(article: Article) -> engine.Document:
    return engine.Document(
        title=article.title,
        keywords=" ".join([*(article.tags or []), article.category]),
        body=article.body,
        is_restricted=article.audience == Audience.TEAMS,
        is_public=article.status == ArticleStatus.PUBLISHED
        and article.audience == Audience.REQUESTERS,
    )


def index_article(article: Article) -> None:
    engine.index_document(
        tenant_id=article.tenant_id,
        kind=KIND,
        object_id=article.pk,
        document=article_document(article),
    )


def reindex_articles(tenant_id: int) -> int:
    articles = Article.objects.for_tenant(tenant_id).order_by("pk")
    return engine.index_documents(
        tenant_id=tenant_id,
        kind=KIND,
        documents={a.pk: article_document(a) for a in articles.iterator(chunk_size=1000)},
    )


def restrict(membership: Membership) -> Q | None:
    if not membership.is_agent:
        return Q(is_public=True)
    if membership.is_admin:
        return Q()
    restricted = visible_articles(membership).filter(audience=Audience.TEAMS).values("pk")
    return Q(is_restricted=False) | Q(object_id__in=restricted)


def register() -> None:
    engine.register_kind(
        engine.Kind(
            name=KIND,
            order=10,
            label="Articles",
            restrict=restrict,
            sees_internal=lambda membership: False,
            reindex=reindex_articles,
        )
    )
