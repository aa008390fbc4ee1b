"""The API's base: Bearer authentication, the tenant of a request, the
fail-closed permission map, the row-level wall, pagination and error shapes.

A small viewset over teams, defined here and routed only for this module,
stands in for the real ones.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import ClassVar

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404
from django.urls import include, path
from django.utils import timezone
from rest_framework import exceptions as drf_exceptions
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from servicedesk import rls, services
from servicedesk.api_base import TenantAPIView, TenantGenericViewSet, exception_handler
from servicedesk.models import Role, Team
from tests.servicedesk.factories import ApiTokenFactory, MembershipFactory, TeamFactory

pytestmark = pytest.mark.urls(__name__)


# --- a stand-in API ------------------------------------------------------------------


class TeamSerializer(serializers.Serializer):
    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(max_length=100)


class TeamViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantGenericViewSet
):
    queryset = Team.objects.none()
    serializer_class = TeamSerializer
    lookup_field = "slug"
    ordering = ("-created_at", "-pk")
    required_scopes: ClassVar[dict[str, str | None]] = {
        "list": "tickets:read",
        "retrieve": "tickets:read",
        "create": "tickets:write",
        "whereami": None,
        "explode": None,
        "refuse": None,
        "forbid": None,
        "notes": "tickets:read",
        "labels": "tickets:read",
        "labels:post": "tickets:write",
    }
    minimum_role: ClassVar[dict[str, str]] = {
        "list": Role.REQUESTER,
        "retrieve": Role.REQUESTER,
        "create": Role.LEAD,
        "whereami": Role.REQUESTER,
        "explode": Role.REQUESTER,
        "refuse": Role.REQUESTER,
        "forbid": Role.REQUESTER,
        "notes": Role.REQUESTER,
        "labels": Role.REQUESTER,
        "labels:post": Role.AGENT,
    }

    def tenant_queryset(self) -> QuerySet[Team]:
        return Team.objects.for_tenant(self.tenant)

    def perform_create(self, serializer):
        serializer.instance = services.team_create(
            tenant=self.tenant, actor=self.request.user, name=serializer.validated_data["name"]
        )

    @action(detail=False)
    def whereami(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting(%s, true)", [rls.SETTING])
            wall = cursor.fetchone()[0]
        return Response(
            {
                "tenant": request.tenant.slug,
                "role": request.membership.role,
                "wall": wall,
                "zone": timezone.get_current_timezone_name(),
            }
        )

    @action(detail=False)
    def unmapped(self, request):  # in neither map: must never run
        raise AssertionError("an action missing from the permission map ran")

    @action(detail=False)
    def explode(self, request):
        raise RuntimeError("boom")

    @action(detail=False, methods=["post"])
    def refuse(self, request):
        kind = request.data.get("kind")
        if kind == "fields":
            raise DjangoValidationError({"name": "Too short.", "__all__": "Not today."})
        if kind == "message":
            raise DjangoValidationError("Nothing to change.")
        raise drf_exceptions.ValidationError(["A bare list."])

    @action(detail=False, methods=["get", "post"])
    def notes(self, request):  # mapped for GET only: POST must be refused
        if request.method == "POST":
            raise AssertionError("an unmapped method of an action ran")
        return Response({"notes": []})

    @action(detail=False, methods=["get", "post"])
    def labels(self, request):
        return Response({"method": request.method})

    @action(detail=False)
    def forbid(self, request):
        raise DjangoPermissionDenied("Not for you.")


class Ping(TenantAPIView):
    required_scopes: ClassVar[dict[str, str | None]] = {"get": "tickets:read"}
    minimum_role: ClassVar[dict[str, str]] = {"get": Role.AGENT}

    def get(self, request):
        return Response({"tenant": request.tenant.slug})

    def put(self, request):  # in neither map
        raise AssertionError("a method missing from the permission map ran")


router = SimpleRouter()
router.register("teams", TeamViewSet, basename="test-team")

urlpatterns = [
    path("api/test/", include(router.urls)),
    path("api/test/ping/", Ping.as_view()),
    path("", include("config.urls")),
]

TEAMS = "/api/test/teams/"


# --- helpers -------------------------------------------------------------------------


def current_setting() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [rls.SETTING])
        return cursor.fetchone()[0]


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def token_for(world, role=Role.AGENT, scopes=("tickets:read", "tickets:write"), **extra):
    return ApiTokenFactory(tenant=world.tenant, user=world.user(role), scopes=list(scopes), **extra)


def session_for(login, user, last_tenant: str | None = None):
    client = login(user)
    if last_tenant is not None:
        session = client.session
        session["last_tenant"] = last_tenant
        session.save()
    return client


# --- Bearer authentication -----------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer ",
        "bearer",
        "Bearer sd_" + "a" * 43 + " extra",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "garbage",
        "Bearer garbage",
        "Bearer sd_" + "a" * 43,
        "Bearer sd_\x00" + "a" * 42,
        "Bearer \x00",
        "Bearer " + "a" * 100_000,
        "Bearer sd_" + "é" * 43,
        "Bearer\tsd_" + "b" * 43,
    ],
)
@pytest.mark.parametrize("url", ["/api/v1/me/", TEAMS])
def test_bad_or_missing_credentials_are_401_never_500(world, client, header, url):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get(url, **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] in {"not_authenticated", "authentication_failed"}
    assert current_setting() in (None, "")


@pytest.mark.parametrize(
    "change",
    [
        {"revoked_at": timezone.now},
        {"expires_at": lambda: timezone.now() - timedelta(seconds=1)},
    ],
    ids=["revoked", "expired"],
)
def test_revoked_and_expired_tokens_are_401(world, client, change):
    token = token_for(world, **{field: make() for field, make in change.items()})
    response = client.get(TEAMS, **bearer(token.secret))
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid, expired or revoked token.",
        "code": "authentication_failed",
    }


def test_a_token_of_a_deactivated_member_is_401(world, client):
    token = token_for(world)
    world.members[Role.AGENT].is_active = False
    world.members[Role.AGENT].save()
    assert client.get(TEAMS, **bearer(token.secret)).status_code == 401


def test_a_bearer_token_wins_over_a_session(world, foreign, login):
    """Signed in to ours in the browser, calling with their token: theirs."""
    token = token_for(foreign)
    client = session_for(login, world.user(Role.ADMIN), last_tenant="ours")
    response = client.get(f"{TEAMS}whereami/", **bearer(token.secret))
    assert response.json()["tenant"] == "theirs"


def test_me_with_a_token_shows_only_the_tokens_tenant(world, foreign, client):
    user = world.user(Role.AGENT)
    MembershipFactory(tenant=foreign.tenant, user=user, role=Role.ADMIN)
    token = token_for(world)
    response = client.get("/api/v1/me/", **bearer(token.secret))
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert [m["tenant"]["slug"] for m in response.json()["memberships"]] == ["ours"]


def test_me_with_a_token_query_count(world, client, django_assert_num_queries):
    token = token_for(world)
    with django_assert_num_queries(3):  # token with tenant and user, membership, last used
        client.get("/api/v1/me/", **bearer(token.secret))
    with django_assert_num_queries(2):  # last used is fresh: no write
        response = client.get("/api/v1/me/", **bearer(token.secret))
    assert response.status_code == 200


# --- the tenant of a request ---------------------------------------------------------


def test_a_token_names_its_tenant_and_the_members_role(world, client):
    token = token_for(world, role=Role.LEAD)
    response = client.get(f"{TEAMS}whereami/", **bearer(token.secret))
    assert response.status_code == 200
    assert response.json() == {
        "tenant": "ours",
        "role": "lead",
        "wall": str(world.tenant.pk),
        "zone": "Europe/Berlin",
    }


def test_a_session_uses_the_tenant_last_opened(world, foreign, login):
    user = world.user(Role.ADMIN)
    MembershipFactory(tenant=foreign.tenant, user=user, role=Role.ADMIN)
    client = login(user)
    client.get(f"/t/{foreign.tenant.slug}/admin/")  # the middleware remembers it
    assert client.get(f"{TEAMS}whereami/").json()["tenant"] == "theirs"
    client.get(f"/t/{world.tenant.slug}/admin/")
    assert client.get(f"{TEAMS}whereami/").json()["tenant"] == "ours"


def test_a_session_with_one_membership_needs_no_last_tenant(world, login):
    response = session_for(login, world.user(Role.AGENT)).get(f"{TEAMS}whereami/")
    assert response.status_code == 200
    assert response.json()["tenant"] == "ours"


def test_a_session_with_several_tenants_and_none_opened_is_403(world, foreign, login):
    user = world.user(Role.AGENT)
    MembershipFactory(tenant=foreign.tenant, user=user, role=Role.AGENT)
    response = session_for(login, user).get(TEAMS)
    assert response.status_code == 403
    assert response.json()["code"] == "no_tenant"
    assert "several organisations" in response.json()["detail"]


def test_a_last_tenant_no_longer_open_is_403_not_another_tenant(world, foreign, login):
    client = session_for(login, world.user(Role.AGENT), last_tenant=foreign.tenant.slug)
    response = client.get(TEAMS)
    assert response.status_code == 403
    assert response.json()["code"] == "no_tenant"


def test_a_session_user_without_memberships_is_403(world, login):
    from tests.servicedesk.factories import UserFactory

    response = session_for(login, UserFactory()).get(TEAMS)
    assert response.status_code == 403
    assert response.json()["code"] == "no_tenant"


@pytest.mark.parametrize("param", ["tenant", "tenant_id", "tenant_slug"])
def test_a_request_parameter_cannot_choose_the_tenant(world, foreign, client, param):
    # No operation takes such a parameter: it is refused, never read.
    token = token_for(world)
    for value in (foreign.tenant.slug, foreign.tenant.pk):
        for url in (f"{TEAMS}whereami/", TEAMS):
            response = client.get(url, {param: value}, **bearer(token.secret))
            assert response.status_code == 400
            assert list(response.json()) == [param]
            assert foreign.tenant.name not in response.content.decode()
        assert client.get(f"{TEAMS}whereami/", **bearer(token.secret)).json()["tenant"] == "ours"


def test_another_tenants_object_is_404(world, foreign, client):
    token = token_for(world)
    response = client.get(f"{TEAMS}{foreign.team.slug}/", **bearer(token.secret))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert foreign.team.name not in response.content.decode()
    ours = client.get(f"{TEAMS}{world.team.slug}/", **bearer(token.secret))
    assert ours.json() == {"slug": world.team.slug, "name": world.team.name}


# --- the permission map --------------------------------------------------------------


def test_an_action_missing_from_the_map_is_denied(world, client, login):
    token = token_for(world, role=Role.ADMIN)
    for caller, extra in ((client, bearer(token.secret)), (login(world.user(Role.ADMIN)), {})):
        response = caller.get(f"{TEAMS}unmapped/", **extra)
        assert response.status_code == 403
        assert response.json()["code"] == "action_not_allowed"


def test_a_token_needs_the_actions_scope(world, client):
    reader = token_for(world, role=Role.ADMIN, scopes=["tickets:read"])
    assert client.get(TEAMS, **bearer(reader.secret)).status_code == 200
    response = client.post(TEAMS, {"name": "Night shift"}, **bearer(reader.secret))
    assert response.status_code == 403
    assert response.json() == {
        "detail": "This token lacks the scope “tickets:write”.",
        "code": "missing_scope",
    }
    other = token_for(world, role=Role.ADMIN, scopes=["sla:admin"])
    assert client.get(TEAMS, **bearer(other.secret)).status_code == 403
    assert not Team.objects.for_tenant(world.tenant).filter(name="Night shift").exists()


def test_the_role_applies_to_tokens_whatever_their_scopes(world, client):
    token = token_for(world, role=Role.AGENT)  # may write, but create needs a lead
    response = client.post(TEAMS, {"name": "Night shift"}, **bearer(token.secret))
    assert response.status_code == 403
    assert response.json()["code"] == "role_required"
    lead = token_for(world, role=Role.LEAD)
    response = client.post(TEAMS, {"name": "Night shift"}, **bearer(lead.secret))
    assert response.status_code == 201
    assert response.json()["slug"] == "night-shift"


def test_a_session_holds_every_scope_but_keeps_its_role(world, login):
    assert login(world.user(Role.AGENT)).post(TEAMS, {"name": "X"}).status_code == 403
    response = login(world.user(Role.LEAD)).post(TEAMS, {"name": "Night shift"})
    assert response.status_code == 201


def test_each_unsafe_method_of_a_multi_method_action_needs_its_own_entry(world, client):
    token = token_for(world, role=Role.AGENT)
    assert client.get(f"{TEAMS}notes/", **bearer(token.secret)).status_code == 200
    response = client.post(f"{TEAMS}notes/", **bearer(token.secret))
    assert response.status_code == 403
    assert response.json()["code"] == "action_not_allowed"
    assert client.post(f"{TEAMS}labels/", **bearer(token.secret)).json() == {"method": "POST"}
    reader = token_for(world, role=Role.AGENT, scopes=["tickets:read"])
    assert client.get(f"{TEAMS}labels/", **bearer(reader.secret)).status_code == 200
    response = client.post(f"{TEAMS}labels/", **bearer(reader.secret))
    assert response.json()["code"] == "missing_scope"
    requester = token_for(world, role=Role.REQUESTER)
    response = client.post(f"{TEAMS}labels/", **bearer(requester.secret))
    assert response.json()["code"] == "role_required"


def test_a_method_no_action_serves_is_405(world, client):
    token = token_for(world)
    response = client.delete(f"{TEAMS}{world.team.slug}/", **bearer(token.secret))
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_the_apiview_helper_maps_http_methods(world, client):
    agent = token_for(world, role=Role.AGENT)
    assert client.get("/api/test/ping/", **bearer(agent.secret)).json() == {"tenant": "ours"}
    assert client.head("/api/test/ping/", **bearer(agent.secret)).status_code == 200
    assert client.put("/api/test/ping/", **bearer(agent.secret)).status_code == 403
    assert client.post("/api/test/ping/", **bearer(agent.secret)).status_code == 405
    requester = token_for(world, role=Role.REQUESTER)
    assert client.get("/api/test/ping/", **bearer(requester.secret)).status_code == 403


def test_declaring_a_viewset_checks_its_maps():
    with pytest.raises(ImproperlyConfigured, match="tenant_queryset"):

        class OwnQueryset(TenantGenericViewSet):
            def get_queryset(self):
                return Team.objects.unscoped()

    with pytest.raises(ImproperlyConfigured, match="same actions"):

        class Unbalanced(TenantGenericViewSet):
            required_scopes: ClassVar[dict[str, str | None]] = {"list": "tickets:read"}
            minimum_role: ClassVar[dict[str, str]] = {}

    with pytest.raises(ImproperlyConfigured, match="unknown API scopes"):

        class Typo(TenantGenericViewSet):
            required_scopes: ClassVar[dict[str, str | None]] = {"list": "tickets:raed"}
            minimum_role: ClassVar[dict[str, str]] = {"list": Role.AGENT}

    with pytest.raises(ImproperlyConfigured, match="unknown roles"):

        class NoSuchRole(TenantGenericViewSet):
            required_scopes: ClassVar[dict[str, str | None]] = {"list": "tickets:read"}
            minimum_role: ClassVar[dict[str, str]] = {"list": "overlord"}


# --- the row-level wall and the time zone --------------------------------------------


def test_the_wall_is_raised_for_the_request_and_lowered_after(world, client):
    token = token_for(world)
    response = client.get(f"{TEAMS}whereami/", **bearer(token.secret))
    assert response.json()["wall"] == str(world.tenant.pk)
    assert current_setting() == ""
    assert timezone.get_current_timezone_name() == "UTC"


def test_the_wall_is_lowered_after_a_refusal(world, client):
    token = token_for(world, scopes=["sla:admin"])
    assert client.get(TEAMS, **bearer(token.secret)).status_code == 403
    assert current_setting() == ""


def test_the_wall_is_lowered_even_when_the_view_fails(world, client):
    token = token_for(world)
    client.raise_request_exception = False
    response = client.get(f"{TEAMS}explode/", **bearer(token.secret))
    assert response.status_code == 500
    assert current_setting() == ""
    assert timezone.get_current_timezone_name() == "UTC"


# --- lists ---------------------------------------------------------------------------


def test_lists_are_cursor_paginated(world, client):
    TeamFactory.create_batch(4, tenant=world.tenant)
    token = token_for(world)
    first = client.get(TEAMS, {"page_size": 2}, **bearer(token.secret)).json()
    assert set(first) == {"next", "previous", "results"}
    assert len(first["results"]) == 2
    seen = [team["slug"] for team in first["results"]]
    url = first["next"]
    while url:
        page = client.get(url, **bearer(token.secret)).json()
        seen += [team["slug"] for team in page["results"]]
        url = page["next"]
    expected = list(
        Team.objects.for_tenant(world.tenant)
        .order_by("-created_at", "-pk")
        .values_list("slug", flat=True)
    )
    assert seen == expected


@pytest.mark.parametrize(
    "query",
    [
        {"page_size": "100000"},
        {"page_size": "-1"},
        {"page_size": "0"},
        {"page_size": "x"},
        {"ordering": "name"},
    ],
)
def test_a_bad_page_size_and_an_ordering_not_offered_are_400(world, client, query):
    # Neither is quietly replaced by the default page or order.
    TeamFactory.create_batch(3, tenant=world.tenant)
    token = token_for(world)
    response = client.get(TEAMS, query, **bearer(token.secret))
    assert response.status_code == 400
    assert list(response.json()) == list(query)


def test_page_size_is_a_whole_number_up_to_200(world, client):
    TeamFactory.create_batch(3, tenant=world.tenant)
    token = token_for(world)
    for size, shown in (("1", 1), ("200", 4)):
        response = client.get(TEAMS, {"page_size": size}, **bearer(token.secret))
        assert response.status_code == 200
        slugs = [team["slug"] for team in response.json()["results"]]
        newest_first = list(
            Team.objects.for_tenant(world.tenant)
            .order_by("-created_at", "-pk")
            .values_list("slug", flat=True)
        )
        assert slugs == newest_first[:shown]


def test_a_forged_cursor_is_400_not_500(world, client):
    token = token_for(world)
    response = client.get(TEAMS, {"cursor": "not-base64!!"}, **bearer(token.secret))
    assert response.status_code == 400
    assert list(response.json()) == ["cursor"]


@pytest.mark.parametrize("extra_teams", [5, 50])
def test_list_query_count_is_constant(world, client, django_assert_num_queries, extra_teams):
    TeamFactory.create_batch(extra_teams, tenant=world.tenant)
    token = token_for(world)
    client.get(TEAMS, **bearer(token.secret))  # records last use
    # token, membership, raise the wall, one page of teams, lower the wall
    with django_assert_num_queries(5):
        response = client.get(TEAMS, **bearer(token.secret))
    assert len(response.json()["results"]) == min(extra_teams + 1, 50)


@pytest.mark.parametrize("extra_teams", [5, 50])
def test_session_list_query_count_is_constant(world, login, django_assert_num_queries, extra_teams):
    TeamFactory.create_batch(extra_teams, tenant=world.tenant)
    client = login(world.user(Role.AGENT))
    # session, user, memberships, raise the wall, one page of teams, lower the wall
    with django_assert_num_queries(6):
        response = client.get(TEAMS)
    assert response.status_code == 200


# --- errors --------------------------------------------------------------------------


def test_service_validation_errors_are_400_by_field(world, client):
    token = token_for(world, role=Role.LEAD)
    response = client.post(TEAMS, {"name": world.team.name}, **bearer(token.secret))
    assert response.status_code == 400
    assert response.json() == {
        "slug": [f"A team with the short name “{world.team.slug}” exists already."]
    }


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("fields", {"name": ["Too short."], "non_field_errors": ["Not today."]}),
        ("message", {"non_field_errors": ["Nothing to change."]}),
        ("list", {"non_field_errors": ["A bare list."]}),
    ],
)
def test_validation_errors_have_one_shape(world, client, kind, expected):
    token = token_for(world)
    response = client.post(
        f"{TEAMS}refuse/",
        json.dumps({"kind": kind}),
        content_type="application/json",
        **bearer(token.secret),
    )
    assert response.status_code == 400
    assert response.json() == expected


def test_django_permission_denied_is_403(world, client):
    token = token_for(world)
    response = client.get(f"{TEAMS}forbid/", **bearer(token.secret))
    assert response.status_code == 403
    assert response.json() == {"detail": "Not for you.", "code": "permission_denied"}


@pytest.mark.parametrize(
    "body", ['{"name": ', "[1, 2", "\x00", '{"name": "\\ud800"}', "NaN", "9" * 10_000]
)
def test_malformed_json_is_400(world, client, body):
    token = token_for(world, role=Role.LEAD)
    response = client.post(TEAMS, body, content_type="application/json", **bearer(token.secret))
    assert response.status_code == 400
    assert set(response.json()) <= {"detail", "code", "name", "non_field_errors"}
    assert Team.objects.for_tenant(world.tenant).count() == 1


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_an_oversized_body_is_413(world, client, settings, content_type):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    token = token_for(world, role=Role.LEAD)
    body = (
        json.dumps({"name": "n" * 5_000})
        if content_type == "application/json"
        else "name=" + "n" * 5_000
    )
    response = client.post(TEAMS, body, content_type=content_type, **bearer(token.secret))
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert current_setting() == ""


def test_too_many_form_fields_is_400(world, client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    token = token_for(world, role=Role.LEAD)
    body = "&".join(f"f{i}=1" for i in range(50))
    response = client.post(
        TEAMS, body, content_type="application/x-www-form-urlencoded", **bearer(token.secret)
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_the_handler_converts_what_django_raises():
    not_found = exception_handler(Http404("No Team matches the given query."), {})
    assert not_found.status_code == 404
    assert not_found.data == {"detail": "No Team matches the given query.", "code": "not_found"}
    denied = exception_handler(DjangoPermissionDenied(), {})
    assert denied.status_code == 403
    assert denied.data["code"] == "permission_denied"
    assert exception_handler(RuntimeError("boom"), {}) is None


@pytest.mark.parametrize(
    "value",
    ["0226-09-21T08:50:07.666832-19:14", "2026-01-01T00:00:00+23:59", "0001-01-01T00:00:00+01:00"],
)
def test_a_date_time_filter_refuses_what_the_database_cannot_take(value):
    from servicedesk.api_base import UtcIsoDateTimeField

    with pytest.raises(DjangoValidationError):
        UtcIsoDateTimeField().clean(value)


def test_a_date_time_filter_hands_on_utc():
    from servicedesk.api_base import UtcIsoDateTimeField

    parsed = UtcIsoDateTimeField().clean("2026-12-03T10:00:00+14:00")
    assert parsed.isoformat() == "2026-12-02T20:00:00+00:00"
