"""API v1 of the tenancy core."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk.api_base import QueryParameterCheck
from servicedesk.models import ApiToken, User
from servicedesk.selectors import memberships_for_user


class TenantSummarySerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    timezone = serializers.CharField()


class MembershipSerializer(serializers.Serializer):
    tenant = TenantSummarySerializer()
    role = serializers.CharField()


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    full_name = serializers.CharField()
    memberships = MembershipSerializer(many=True)


class MeView(QueryParameterCheck, APIView):
    """The caller and the tenants they can enter, with their role in each.

    Called with an API token, only the token's tenant is listed: a token acts
    in that one tenant, whatever else its owner may enter.
    """

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve", tags=["accounts"])
    def get(self, request: Request) -> Response:
        user = cast(User, request.user)  # IsAuthenticated ran first
        token = request.auth
        memberships = (
            [token.membership] if isinstance(token, ApiToken) else list(memberships_for_user(user))
        )
        data = {"email": user.email, "full_name": user.full_name, "memberships": memberships}
        return Response(MeSerializer(data).data)
