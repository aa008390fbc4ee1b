"""API tokens: issuing, authenticating, revoking; the command; the admin pages."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from servicedesk import services
from servicedesk.models import API_SCOPES, ApiToken, AuditEvent, Role
from tests.servicedesk.factories import ApiTokenFactory, MembershipFactory, UserFactory


def issue(world, **overrides):
    arguments = {
        "tenant": world.tenant,
        "actor": world.user(Role.ADMIN),
        "user": world.user(Role.AGENT),
        "name": "Monitoring",
        "scopes": ["tickets:read"],
    }
    return services.api_token_create(**(arguments | overrides))


def audit_actions(world) -> list[str]:
    """The tenant's audit trail of tokens (the foreign world's set-up
    records its SLA settings too)."""
    return list(
        AuditEvent.objects.for_tenant(world.tenant)
        .filter(action__startswith="api_token.")
        .order_by("created_at", "pk")
        .values_list("action", flat=True)
    )


def tables_containing(text: str) -> list[str]:
    """Every table with a row whose text form contains ``text``."""
    found = []
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(
                f"SELECT count(*) FROM {quoted} AS t WHERE t::text LIKE %s",  # noqa: S608
                [f"%{text}%"],
            )
            if cursor.fetchone()[0]:
                found.append(table)
    return found


# --- issuing -------------------------------------------------------------------------


def test_a_new_token_shows_its_secret_once_and_stores_only_its_hash(world):
    token, secret = issue(world, scopes=["tickets:write", "tickets:read", "tickets:read"])
    assert secret.startswith("sd_")
    assert len(secret) >= 40
    token.refresh_from_db()
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:8]
    assert token.scopes == ["tickets:read", "tickets:write"]
    assert token.created_by == world.user(Role.ADMIN)
    assert tables_containing(secret) == []
    assert tables_containing(secret[8:]) == []


def test_issuing_is_audited(world):
    issue(world, name="Grafana")
    event = AuditEvent.objects.for_tenant(world.tenant).get(action="api_token.created")
    assert event.label == "API token created"
    assert event.target == "Grafana"
    assert event.data["scopes"] == "tickets:read"
    assert "→" not in event.details


def test_two_tokens_never_share_a_secret(world):
    secrets = {issue(world)[1] for _ in range(5)}
    assert len(secrets) == 5


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scopes": ["tickets:delete"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"expires_at": timezone.now() - timedelta(days=1)}, "expires_at"),
    ],
)
def test_issuing_refuses_bad_input_by_field(world, overrides, field):
    with pytest.raises(ValidationError) as caught:
        issue(world, **overrides)
    assert field in caught.value.message_dict
    assert not ApiToken.objects.for_tenant(world.tenant).filter(name="Monitoring").exists()


def test_only_an_active_member_can_own_a_token(world, foreign):
    outsider = foreign.user(Role.ADMIN)
    with pytest.raises(ValidationError) as caught:
        issue(world, user=outsider)
    assert "user" in caught.value.message_dict
    deactivated = world.members[Role.LEAD]
    deactivated.is_active = False
    deactivated.save()
    with pytest.raises(ValidationError):
        issue(world, user=deactivated.user)


def test_a_deactivated_tenant_gets_no_tokens(world):
    world.tenant.is_active = False
    world.tenant.save()
    with pytest.raises(ValidationError) as caught:
        issue(world)
    assert caught.value.message_dict == {"__all__": ["This organisation is deactivated."]}


def test_the_scope_registry_offers_the_known_scopes():
    assert {"tickets:read", "tickets:write", "sla:admin"} <= set(API_SCOPES)


# --- authenticating ------------------------------------------------------------------


def test_a_valid_secret_authenticates_with_its_membership(world):
    token, secret = issue(world)
    found = services.api_token_authenticate(secret)
    assert found == token
    assert found.membership == world.members[Role.AGENT]
    assert found.membership.tenant == world.tenant
    assert found.user == world.user(Role.AGENT)


@pytest.mark.parametrize(
    "raw", ["", "sd_", "sd_short", "x" * 50, "sd_" + "a" * 43, "sd_\x00" + "a" * 42, "é" * 60]
)
def test_unknown_and_malformed_secrets_are_refused(world, raw, django_assert_max_num_queries):
    issue(world)
    with django_assert_max_num_queries(1):  # malformed ones never reach the database
        assert services.api_token_authenticate(raw) is None


def test_a_malformed_secret_costs_no_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert services.api_token_authenticate("Bearer nonsense") is None


def test_an_expired_token_is_refused(world):
    _token, secret = issue(world, expires_at=timezone.now() + timedelta(hours=1))
    assert services.api_token_authenticate(secret) is not None
    later = timezone.now() + timedelta(hours=2)
    assert services.api_token_authenticate(secret, now=later) is None


@pytest.mark.parametrize("what", ["membership", "user", "tenant"])
def test_a_token_stops_while_its_owner_or_tenant_is_inactive(world, what):
    _token, secret = issue(world)
    target = {
        "membership": world.members[Role.AGENT],
        "user": world.user(Role.AGENT),
        "tenant": world.tenant,
    }[what]
    target.is_active = False
    target.save()
    assert services.api_token_authenticate(secret) is None
    target.is_active = True
    target.save()
    assert services.api_token_authenticate(secret) is not None


def test_membership_elsewhere_does_not_count(world, foreign):
    """The owner left this tenant but is a member of another one."""
    user = world.user(Role.AGENT)
    _token, secret = issue(world)
    MembershipFactory(tenant=foreign.tenant, user=user, role=Role.ADMIN)
    world.members[Role.AGENT].is_active = False
    world.members[Role.AGENT].save()
    assert services.api_token_authenticate(secret) is None


def test_last_used_is_written_at_most_once_a_minute(world, django_assert_num_queries):
    token, secret = issue(world)
    now = timezone.now()
    with django_assert_num_queries(3):  # token, membership, last used
        services.api_token_authenticate(secret, now=now)
    with django_assert_num_queries(2):
        services.api_token_authenticate(secret, now=now + timedelta(seconds=59))
    token.refresh_from_db()
    assert token.last_used_at == now
    services.api_token_authenticate(secret, now=now + timedelta(seconds=61))
    token.refresh_from_db()
    assert token.last_used_at == now + timedelta(seconds=61)


# --- revoking ------------------------------------------------------------------------


def test_a_revoked_token_is_refused_and_revoking_twice_changes_nothing(world):
    token, secret = issue(world)
    services.api_token_revoke(actor=world.user(Role.ADMIN), token=token)
    assert services.api_token_authenticate(secret) is None
    token.refresh_from_db()
    revoked_at = token.revoked_at
    assert revoked_at is not None
    services.api_token_revoke(actor=world.user(Role.ADMIN), token=token)
    token.refresh_from_db()
    assert token.revoked_at == revoked_at
    assert audit_actions(world) == ["api_token.created", "api_token.revoked"]


# --- the command ---------------------------------------------------------------------


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_only_the_secret(world):
    output = run_command(
        "--tenant",
        "ours",
        "--user",
        "AGENT@ours.test",
        "--scopes",
        "tickets:read, tickets:write",
        "--name",
        "Alertmanager",
        "--expires-days",
        "30",
    )
    secret = output.strip()
    assert output == secret + "\n"
    token = services.api_token_authenticate(secret)
    assert token is not None
    assert token.name == "Alertmanager"
    assert token.tenant == world.tenant
    assert token.user == world.user(Role.AGENT)
    assert token.scopes == ["tickets:read", "tickets:write"]
    assert token.created_by is None
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)


def test_the_command_without_expiry_or_name(world):
    secret = run_command("--tenant", "ours", "--user", "agent@ours.test", "--scopes", "sla:admin")
    token = services.api_token_authenticate(secret.strip())
    assert token.expires_at is None
    assert token.name.startswith("Command line")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "nope", "--user", "agent@ours.test"], "No tenant with the slug 'nope'"),
        (["--tenant", "ours", "--user", "ghost@ours.test"], "No user with the e-mail"),
        (["--tenant", "ours", "--user", "agent@theirs.test"], "user: The token's owner must be"),
        (
            ["--tenant", "ours", "--user", "agent@ours.test", "--expires-days", "0"],
            "--expires-days must be 1 or more",
        ),
    ],
)
def test_the_command_fails_clearly(world, foreign, args, message):
    with pytest.raises(CommandError, match=message):
        run_command(*args, "--scopes", "tickets:read")
    assert not ApiToken.objects.unscoped().filter(created_by__isnull=True).exists()


def test_the_command_names_unknown_scopes(world):
    with pytest.raises(CommandError, match="scopes: Unknown scope: tickets:delete"):
        run_command("--tenant", "ours", "--user", "agent@ours.test", "--scopes", "tickets:delete")


# --- the admin pages -----------------------------------------------------------------


@pytest.fixture
def admin_client(world, login):
    return login(world.user(Role.ADMIN))


def tokens_url(world):
    return reverse("tenant_admin:api_tokens", args=[world.tenant.slug])


def revoke_url(world, token):
    return reverse("tenant_admin:api_token_revoke", args=[world.tenant.slug, token.pk])


def test_the_list_shows_this_tenants_tokens_only(world, foreign, admin_client):
    body = admin_client.get(tokens_url(world)).content.decode()
    assert world.api_token.name in body
    assert world.api_token.prefix in body
    assert "tickets:write" in body
    assert foreign.api_token.name not in body
    assert foreign.api_token.prefix not in body
    assert world.api_token.secret not in body


@pytest.mark.parametrize("extra_tokens", [5, 50])
def test_the_list_query_count_is_constant(
    world, admin_client, django_assert_num_queries, extra_tokens
):
    for _ in range(extra_tokens):
        member = MembershipFactory(tenant=world.tenant, role=Role.AGENT)
        ApiTokenFactory(tenant=world.tenant, user=member.user, created_by=world.user(Role.ADMIN))
    admin_client.get(tokens_url(world))  # first visit stores the tenant in the session
    # session, user, memberships, raise the wall, tokens with owner and issuer,
    # members for the form, lower the wall
    with django_assert_num_queries(7):
        response = admin_client.get(tokens_url(world))
    assert response.status_code == 200
    assert response.content.decode().count("Revoke the API token") == extra_tokens + 1


def test_creating_shows_the_secret_once(world, admin_client):
    agent = world.user(Role.AGENT)
    response = admin_client.post(
        tokens_url(world),
        {
            "user": agent.pk,
            "name": "Grafana alerts",
            "scopes": ["tickets:read", "tickets:write"],
            "expires_in_days": "30",
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.for_tenant(world.tenant).get(name="Grafana alerts")
    secret = response.context["secret"]
    assert secret in response.content.decode()
    assert "shown only this once" in response.content.decode()
    assert services.api_token_authenticate(secret) == token
    assert token.user == agent
    assert token.scopes == ["tickets:read", "tickets:write"]
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    listed = admin_client.get(tokens_url(world)).content.decode()
    assert "Grafana alerts" in listed
    assert secret not in listed
    assert secret[8:] not in listed
    assert tables_containing(secret[8:]) == []


def test_a_token_created_in_the_admin_area_works_on_the_api(world, foreign, admin_client, client):
    MembershipFactory(tenant=foreign.tenant, user=world.user(Role.AGENT), role=Role.AGENT)
    response = admin_client.post(
        tokens_url(world),
        {"user": world.user(Role.AGENT).pk, "name": "CLI", "scopes": ["tickets:read"]},
    )
    secret = response.context["secret"]
    me = client.get(reverse("api_me"), HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert me.status_code == 200
    assert [m["tenant"]["slug"] for m in me.json()["memberships"]] == ["ours"]


@pytest.mark.parametrize(
    "data",
    [
        {"name": "No scopes", "user": "OWNER"},
        {"name": "Bad scope", "user": "OWNER", "scopes": ["tickets:delete"]},
        {"name": "Foreign owner", "user": "FOREIGN", "scopes": ["tickets:read"]},
        {"name": "", "user": "OWNER", "scopes": ["tickets:read"]},
        {"name": "a\x00b", "user": "OWNER", "scopes": ["tickets:read"]},
        {"name": "Never", "user": "OWNER", "scopes": ["tickets:read"], "expires_in_days": "0"},
        {"name": "Huge id", "user": "9" * 30, "scopes": ["tickets:read"]},
    ],
)
def test_bad_posts_are_form_errors(world, foreign, admin_client, data):
    users = {"OWNER": world.user(Role.AGENT).pk, "FOREIGN": foreign.user(Role.AGENT).pk}
    data = {**data, "user": users.get(data["user"], data["user"])}
    before = ApiToken.objects.for_tenant(world.tenant).count()
    response = admin_client.post(tokens_url(world), data)
    assert response.status_code == 400
    assert b"errorlist" in response.content
    assert "secret" not in response.context
    assert ApiToken.objects.for_tenant(world.tenant).count() == before


def test_the_form_offers_only_active_members_of_this_tenant(world, foreign, admin_client):
    gone = world.members[Role.LEAD]
    gone.is_active = False
    gone.save()
    form = admin_client.get(tokens_url(world)).context["form"]
    offered = set(form.fields["user"].queryset)
    assert world.user(Role.AGENT) in offered
    assert gone.user not in offered
    assert not offered & {m.user for m in foreign.members.values()}


def test_revoking_from_the_admin_area(world, admin_client):
    response = admin_client.post(revoke_url(world, world.api_token))
    assert response.status_code == 302
    assert response["Location"] == tokens_url(world)
    world.api_token.refresh_from_db()
    assert world.api_token.revoked_at is not None
    assert services.api_token_authenticate(world.api_token.secret) is None
    body = admin_client.get(tokens_url(world)).content.decode()
    assert "revoked" in body
    assert "Revoke the API token" not in body


def test_revoking_needs_a_post(world, admin_client):
    assert admin_client.get(revoke_url(world, world.api_token)).status_code == 405
    world.api_token.refresh_from_db()
    assert world.api_token.revoked_at is None


def test_another_tenants_token_cannot_be_revoked(world, foreign, admin_client):
    url = reverse("tenant_admin:api_token_revoke", args=[world.tenant.slug, foreign.api_token.pk])
    assert admin_client.post(url).status_code == 404
    foreign.api_token.refresh_from_db()
    assert foreign.api_token.revoked_at is None


@pytest.mark.parametrize("token_id", ["9" * 30, "0", "-1", "abc"])
def test_absurd_token_ids_are_not_found(world, admin_client, token_id):
    url = f"/t/{world.tenant.slug}/admin/api-tokens/{token_id}/revoke/"
    assert admin_client.post(url).status_code == 404


@pytest.mark.parametrize("role", [Role.REQUESTER, Role.AGENT, Role.LEAD])
def test_only_admins_manage_tokens(world, login, role):
    client = login(world.user(role))
    assert client.get(tokens_url(world)).status_code == 403
    response = client.post(
        tokens_url(world),
        {"user": world.user(role).pk, "name": "Mine", "scopes": ["tickets:read"]},
    )
    assert response.status_code == 403
    assert client.post(revoke_url(world, world.api_token)).status_code == 403
    assert ApiToken.objects.for_tenant(world.tenant).count() == 1
    world.api_token.refresh_from_db()
    assert world.api_token.revoked_at is None


def test_the_admin_navigation_links_the_tokens_page(world, admin_client):
    body = admin_client.get(reverse("tenant_admin:overview", args=[world.tenant.slug])).content
    assert tokens_url(world).encode() in body


def test_deleting_a_user_deletes_their_tokens(db):
    member = MembershipFactory(user=UserFactory())
    token = ApiTokenFactory(tenant=member.tenant, user=member.user)
    member.user.delete()
    assert not ApiToken.objects.unscoped().filter(pk=token.pk).exists()


# --- the schema ----------------------------------------------------------------------


def test_the_schema_documents_bearer_tokens(db, client):
    from drf_spectacular.validation import validate_schema

    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = response.json()
    validate_schema(schema)
    scheme = schema["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert {"bearerAuth": []} in schema["paths"]["/api/v1/me/"]["get"]["security"]


# --- the platform operator -----------------------------------------------------------


def test_the_operator_sees_and_revokes_tokens_of_every_tenant(world, foreign, login):
    operator = UserFactory(email="ops@platform.test", is_staff=True, is_superuser=True)
    client = login(operator)
    listing = client.get(reverse("admin:servicedesk_apitoken_changelist")).content.decode()
    assert world.api_token.name in listing
    assert foreign.api_token.name in listing
    detail = client.get(reverse("admin:servicedesk_apitoken_change", args=[world.api_token.pk]))
    assert detail.status_code == 200
    assert world.api_token.key_hash not in detail.content.decode()
    response = client.post(
        reverse("admin:servicedesk_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [foreign.api_token.pk]},
    )
    assert response.status_code == 302
    foreign.api_token.refresh_from_db()
    world.api_token.refresh_from_db()
    assert foreign.api_token.revoked_at is not None
    assert world.api_token.revoked_at is None
    assert audit_actions(foreign) == ["api_token.revoked"]
