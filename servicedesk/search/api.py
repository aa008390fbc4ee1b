"""``GET /api/v1/search/``: the search layer over HTTP, for every kind the
caller may read (a token needs the kind's read scope)."""

from __future__ import annotations

from typing import Any, ClassVar

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from servicedesk.api_base import TenantAPIView, has_scope
from servicedesk.models import Role
from servicedesk.search import engine

# The scope a token needs to find each kind; a kind not named here needs none beyond a valid token.
KIND_SCOPES = {"article": "kb:read", "ticket": "tickets:read"}


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField(source="object_id")
    title = serializers.CharField()
    snippet = serializers.CharField(help_text="HTML: the text escaped, matches in <mark>.")
    rank = serializers.FloatField()
    is_fuzzy = serializers.BooleanField(help_text="Found by the typo fallback.")


class SearchResultSerializer(serializers.Serializer):
    results = SearchHitSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The cursor of the next page.")
    message = serializers.CharField(help_text="Why nothing was searched, or what was cut.")


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=10_000, allow_blank=True, trim_whitespace=False)
    kind = serializers.CharField(max_length=200, required=False, allow_blank=True)
    limit = serializers.IntegerField(min_value=1, max_value=engine.MAX_LIMIT, required=False)
    cursor = serializers.CharField(max_length=40, required=False)


PARAMETERS = [
    OpenApiParameter("q", str, description='websearch syntax: words, "a phrase", -not, or.'),
    OpenApiParameter("kind", str, description="Comma-separated kinds, e.g. article,ticket."),
    OpenApiParameter("limit", int, description=f"Hits per page, at most {engine.MAX_LIMIT}."),
    OpenApiParameter("cursor", str, description="From a previous answer's next."),
]


@extend_schema(tags=["search"])
class SearchView(TenantAPIView):
    required_scopes: ClassVar = {"get": None}
    minimum_role: ClassVar = {"get": Role.REQUESTER}
    query_parameters: ClassVar = {"get": PARAMETERS}

    @extend_schema(
        parameters=PARAMETERS,
        responses=SearchResultSerializer,
        summary="Search what the caller may read",
    )
    def get(self, request: Request) -> Response:
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data: dict[str, Any] = query.validated_data
        requested = [k.strip() for k in data.get("kind", "").split(",") if k.strip()]
        known = engine.kinds.names()
        unknown = sorted(set(requested) - set(known))
        if unknown:
            raise serializers.ValidationError({"kind": [f"Unknown kind: {', '.join(unknown)}."]})
        kinds = [k for k in (requested or known) if has_scope(request, KIND_SCOPES.get(k))]
        if not kinds:
            result = engine.SearchResult(
                hits=[], message="This token may read none of these kinds."
            )
        else:
            try:
                result = engine.search(
                    self.tenant,
                    self.membership,
                    data["q"],
                    kinds=kinds,
                    limit=data.get("limit", 20),
                    cursor=data.get("cursor"),
                )
            except engine.SearchInputError as error:
                raise serializers.ValidationError({"cursor": [str(error)]}) from error
        return Response(
            SearchResultSerializer(
                {"results": result.hits, "next": result.next_cursor, "message": result.message}
            ).data
        )
