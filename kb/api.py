"""The knowledge base's API: articles (``kb:read`` / ``kb:write``) and their revisions.

Requesters read the published articles for requesters, as in the portal;
agents read what the desk shows them and write; deleting an article archives
it (its revisions stay)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kb import selectors, services
from kb.models import Article, Audience, Revision
from servicedesk.api_base import TenantGenericViewSet
from servicedesk.models import Membership, Role, Team
from servicedesk.parsers import JSONParser

KB_READ = "kb:read"
KB_WRITE = "kb:write"
ANY_SEGMENT = r"[^/]+"
MAX_ID = 2**63 - 1


class ArticleInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=services.TITLE_MAX)
    body = serializers.CharField(max_length=services.BODY_MAX, allow_blank=True, required=False)
    category = serializers.CharField(max_length=80, allow_blank=True, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=services.TAG_MAX, required=False
    )
    audience = serializers.ChoiceField(choices=Audience.choices, required=False)
    teams = serializers.ListField(
        child=serializers.SlugField(max_length=50),
        max_length=50,
        required=False,
        help_text="Slugs of the teams that may read it (audience teams).",
    )
    owner_team = serializers.SlugField(max_length=50, allow_null=True, required=False)
    review_due = serializers.DateField(allow_null=True, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A closed shape: a field this endpoint does not take is a mistake to hear about.
        data = self.initial_data if isinstance(self.initial_data, dict) else {}
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return attrs


class ArticleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    key = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    category = serializers.CharField(read_only=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    status = serializers.CharField(read_only=True)
    audience = serializers.CharField(read_only=True)
    teams = serializers.SerializerMethodField()
    owner_team = serializers.SerializerMethodField()
    review_due = serializers.DateField(read_only=True, allow_null=True)
    owner = serializers.SerializerMethodField()
    views = serializers.IntegerField(read_only=True)
    helpful_yes = serializers.IntegerField(read_only=True)
    helpful_no = serializers.IntegerField(read_only=True)
    deflections = serializers.IntegerField(read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_owner(self, article: Article) -> str | None:
        return article.owner.display_name if article.owner else None

    def get_teams(self, article: Article) -> list[str]:
        return sorted(t.slug for t in article.teams.for_tenant(article.tenant_id))

    def get_owner_team(self, article: Article) -> str | None:
        return article.owner_team.slug if article.owner_team else None


class RevisionSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = Revision
        fields: ClassVar = [
            "number",
            "title",
            "body",
            "category",
            "tags",
            "note",
            "created_at",
            "author",
        ]

    def get_author(self, revision: Revision) -> str | None:
        return revision.author.display_name if revision.author else None


ACTIONS = ("list", "retrieve", "create", "partial_update", "destroy", "revisions")


def _teams(membership: Membership, slugs: list[str]) -> list[Team]:
    found = {
        t.slug: t for t in Team.objects.for_tenant(membership.tenant_id).filter(slug__in=slugs)
    }
    missing = [s for s in slugs if s not in found]
    if missing:
        raise serializers.ValidationError({"teams": [f"No such team: {', '.join(missing)}."]})
    return [found[s] for s in slugs]


@extend_schema(tags=["kb"])
class ArticleViewSet(  # type: ignore[misc]
    mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantGenericViewSet
):
    """Knowledge-base articles."""

    queryset = Article.objects.none()
    serializer_class = ArticleSerializer
    lookup_url_kwarg = "article_id"
    lookup_value_regex = ANY_SEGMENT
    parser_classes = (JSONParser,)
    filter_backends = ()
    ordering = ("-updated_at", "-pk")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]  # noqa: RUF012
    required_scopes: ClassVar = {
        "list": KB_READ,
        "retrieve": KB_READ,
        "revisions": KB_READ,
        "create": KB_WRITE,
        "partial_update": KB_WRITE,
        "destroy": KB_WRITE,
    }
    minimum_role: ClassVar = {
        "list": Role.REQUESTER,
        "retrieve": Role.REQUESTER,
        "revisions": Role.AGENT,
        "create": Role.AGENT,
        "partial_update": Role.AGENT,
        "destroy": Role.AGENT,
    }

    def tenant_queryset(self) -> QuerySet[Article]:
        return selectors.visible_articles(self.membership).select_related("owner", "owner_team")

    def get_object(self) -> Article:
        raw = str(self.kwargs["article_id"])
        if not raw.isdigit() or int(raw) > MAX_ID:
            raise exceptions.NotFound("No such article.")
        return selectors.get_article_for(self.membership, int(raw))

    def _fields(self, data: dict[str, Any], article: Article | None) -> services.ArticleFields:
        def value(name: str, default: Any) -> Any:
            if name in data:
                return data[name]
            return default

        current = article
        owner_slug = value(
            "owner_team", current.owner_team.slug if current and current.owner_team else None
        )
        team_slugs = value(
            "teams",
            [t.slug for t in current.teams.for_tenant(current.tenant_id)] if current else [],
        )
        owner_team = _teams(self.membership, [owner_slug])[0] if owner_slug else None
        return services.ArticleFields(
            title=value("title", current.title if current else ""),
            body=value("body", current.body if current else ""),
            category=value("category", current.category if current else ""),
            tags=value("tags", current.tags if current else []),
            audience=value("audience", current.audience if current else Audience.AGENTS),
            teams=_teams(self.membership, team_slugs),
            owner_team=owner_team,
            review_due=value("review_due", current.review_due if current else None),
        )

    def _run(self, call: Any) -> Article:
        try:
            return call()
        except DjangoValidationError as error:
            raise serializers.ValidationError(
                error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
            ) from error
        except DjangoPermissionDenied as error:
            raise exceptions.PermissionDenied(str(error)) from error

    @extend_schema(
        request=ArticleInputSerializer,
        responses={201: ArticleSerializer},
        summary="Write a new draft",
    )
    def create(self, request: Request) -> Response:
        serializer = ArticleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = self._fields(serializer.validated_data, None)
        article = self._run(lambda: services.article_create(actor=self.membership, fields=fields))
        return Response(ArticleSerializer(article).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ArticleInputSerializer,
        responses=ArticleSerializer,
        summary="Change an article (a new revision when its text changes)",
    )
    def partial_update(self, request: Request, article_id: str) -> Response:
        article = self.get_object()
        serializer = ArticleInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = self._fields(serializer.validated_data, article)
        article = self._run(
            lambda: services.article_update(actor=self.membership, article=article, fields=fields)
        )
        return Response(ArticleSerializer(article).data)

    @extend_schema(summary="Archive an article")
    def destroy(self, request: Request, article_id: str) -> Response:
        article = self.get_object()
        self._run(lambda: services.article_archive(actor=self.membership, article=article))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses=RevisionSerializer(many=True), summary="The article's revisions, newest first"
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def revisions(self, request: Request, article_id: str) -> Response:
        article = self.get_object()
        revisions = selectors.article_revisions(article=article)[:200]
        return Response(RevisionSerializer(revisions, many=True).data)


router = SimpleRouter()
router.register("kb/articles", ArticleViewSet, basename="kb-article")
