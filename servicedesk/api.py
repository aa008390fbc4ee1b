"""API v1 of the tenancy core."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk.models import User
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


class MeView(APIView):
    """The signed-in user and the tenants they can enter, with their role in each."""

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve", tags=["accounts"])
    def get(self, request: Request) -> Response:
        user = cast(User, request.user)  # IsAuthenticated ran first
        data = {
            "email": user.email,
            "full_name": user.full_name,
            "memberships": list(memberships_for_user(user)),
        }
        return Response(MeSerializer(data).data)
