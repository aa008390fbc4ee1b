"""Members and teams in the tenant admin area."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicedesk import services
from servicedesk.models import AuditEvent, Membership, Role, Team
from tests.servicedesk.factories import MembershipFactory, TeamFactory, UserFactory


@pytest.fixture
def admin_client(world, login):
    return login(world.user(Role.ADMIN))


def url(name, world, *args):
    return reverse(f"tenant_admin:{name}", args=[world.tenant.slug, *args])


def actions(world) -> list[str]:
    return list(
        AuditEvent.objects.for_tenant(world.tenant)
        .order_by("created_at")
        .values_list("action", flat=True)
    )


# --- members -------------------------------------------------------------------------


def test_members_page_lists_only_this_tenant(world, foreign, admin_client):
    response = admin_client.get(url("members", world))
    body = response.content.decode()
    assert response.status_code == 200
    for membership in world.members.values():
        assert membership.user.email in body
    for membership in foreign.members.values():
        assert membership.user.email not in body


@pytest.mark.parametrize("extra_members", [5, 50])
def test_members_page_query_count_is_constant(
    world, admin_client, django_assert_num_queries, extra_members
):
    for _ in range(extra_members):
        user = MembershipFactory(tenant=world.tenant, role=Role.AGENT).user
        world.team.members.add(user)
    # session, user, memberships (+tenants, also the switcher's), set the
    # row-level tenant, member count, members, their teams (prefetch), pending
    # invitations, reset the row-level tenant
    admin_client.get(url("members", world))  # first visit stores the tenant in the session
    with django_assert_num_queries(9):
        response = admin_client.get(url("members", world))
    assert response.status_code == 200


@pytest.mark.parametrize("extra_teams", [5, 50])
def test_teams_page_query_count_is_constant(
    world, admin_client, django_assert_num_queries, extra_teams
):
    TeamFactory.create_batch(extra_teams, tenant=world.tenant)
    # session, user, memberships, set row-level tenant, teams (annotated), reset
    admin_client.get(url("teams", world))  # first visit stores the tenant in the session
    with django_assert_num_queries(6):
        response = admin_client.get(url("teams", world))
    assert response.status_code == 200


@pytest.mark.parametrize("extra_teams", [5, 50])
def test_desk_home_query_count_is_constant(world, login, django_assert_num_queries, extra_teams):
    for team in TeamFactory.create_batch(extra_teams, tenant=world.tenant):
        team.members.add(world.user(Role.AGENT))
    client = login(world.user(Role.AGENT))
    # The desk lists the teams beside the queues. session, user, memberships,
    # set row-level tenant, staff, teams (with member counts), my team ids,
    # queue counts, saved views, reset (an empty queue needs no row query)
    client.get(reverse("desk", args=[world.tenant.slug]))  # stores the tenant in the session
    with django_assert_num_queries(10):
        response = client.get(reverse("desk", args=[world.tenant.slug]))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "LEAD@ours"}, {"lead@ours.test"}),
        ({"role": "requester"}, {"requester@ours.test", "gone@ours.test"}),
        ({"status": "inactive"}, {"gone@ours.test"}),
        ({"q": "@ours.test", "role": "agent", "status": "active"}, {"agent@ours.test"}),
        ({"q": "nobody"}, set()),
    ],
)
def test_filter_members(world, foreign, admin_client, query, expected):
    MembershipFactory(
        tenant=world.tenant, user=UserFactory(email="gone@ours.test"), is_active=False
    )
    response = admin_client.get(url("members", world), query)
    shown = {m.user.email for m in response.context["page"]}
    assert shown == expected


@pytest.mark.parametrize(
    "query", [{"role": "overlord"}, {"status": "zombie"}, {"q": "x" * 500}, {"page": "-1"}]
)
def test_bad_filters_are_ignored_not_fatal(world, admin_client, query):
    response = admin_client.get(url("members", world), query)
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 4


def test_members_are_paginated_and_pages_keep_the_filter(world, admin_client):
    for n in range(60):
        MembershipFactory(
            tenant=world.tenant, role=Role.AGENT, user=UserFactory(email=f"a{n:02}@x.test")
        )
    first = admin_client.get(url("members", world), {"role": "agent"})
    assert first.context["page"].paginator.count == 61
    assert len(first.context["page"].object_list) == 50
    assert b"role=agent&amp;page=2" in first.content
    second = admin_client.get(url("members", world), {"role": "agent", "page": 2})
    assert len(second.context["page"].object_list) == 11
    assert not {m.pk for m in first.context["page"]} & {m.pk for m in second.context["page"]}


def test_change_role(world, admin_client):
    agent = world.members[Role.AGENT]
    response = admin_client.post(url("member", world, agent.pk), {"role": Role.LEAD})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.role == Role.LEAD
    event = AuditEvent.objects.for_tenant(world.tenant).get(action="membership.role_changed")
    assert event.data == {"old": "agent", "new": "lead"}
    assert event.actor == world.user(Role.ADMIN)


def test_demoting_to_requester_leaves_teams(world, admin_client):
    lead = world.members[Role.LEAD]
    admin_client.post(url("member", world, lead.pk), {"role": Role.REQUESTER})
    world.team.refresh_from_db()
    assert world.team.lead is None
    assert not world.team.members.filter(pk=lead.user.pk).exists()


def test_last_admin_cannot_be_demoted(world, admin_client):
    admin = world.members[Role.ADMIN]
    response = admin_client.post(url("member", world, admin.pk), {"role": Role.AGENT})
    assert response.status_code == 400
    assert b"at least one active admin" in response.content
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


@pytest.mark.parametrize("role", ["", "root", "ADMIN"])
def test_bad_role_is_a_form_error(world, admin_client, role):
    agent = world.members[Role.AGENT]
    response = admin_client.post(url("member", world, agent.pk), {"role": role})
    assert response.status_code == 400
    agent.refresh_from_db()
    assert agent.role == Role.AGENT


def test_deactivate_and_reactivate(world, admin_client, login):
    agent = world.members[Role.AGENT]
    response = admin_client.post(url("member_set_active", world, agent.pk), {"active": "0"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert not agent.is_active
    assert not world.team.members.filter(pk=agent.user.pk).exists()
    assert login(agent.user).get(reverse("portal", args=[world.tenant.slug])).status_code == 404
    admin_client.post(url("member_set_active", world, agent.pk), {"active": "1"})
    agent.refresh_from_db()
    assert agent.is_active
    assert actions(world)[-2:] == ["membership.deactivated", "membership.reactivated"]


def test_admin_cannot_deactivate_self(world, admin_client):
    admin = world.members[Role.ADMIN]
    response = admin_client.post(
        url("member_set_active", world, admin.pk), {"active": "0"}, follow=True
    )
    assert b"cannot deactivate yourself" in response.content
    admin.refresh_from_db()
    assert admin.is_active


def test_state_never_changes_on_get(world, admin_client):
    agent = world.members[Role.AGENT]
    assert admin_client.get(url("member_set_active", world, agent.pk)).status_code == 405
    assert admin_client.get(url("team_members", world, world.team.slug)).status_code == 405


# --- teams -----------------------------------------------------------------------------


def test_create_team(world, admin_client):
    response = admin_client.post(
        url("teams", world), {"name": "Network Ops", "description": "Wires"}
    )
    assert response.status_code == 302
    team = Team.objects.for_tenant(world.tenant).get(slug="network-ops")
    assert response["Location"] == url("team", world, team.slug)
    assert "team.created" in actions(world)


def test_same_team_name_in_another_tenant_is_fine(world, foreign, admin_client):
    response = admin_client.post(
        url("teams", world), {"name": foreign.team.name, "slug": foreign.team.slug}
    )
    assert response.status_code == 302
    assert Team.objects.unscoped().filter(slug=foreign.team.slug).count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, b"This field is required"),
        ({"name": "Ours Squad"}, b"exists already"),
        ({"name": "Other", "slug": "ours-squad"}, b"exists already"),
        ({"name": "!!!"}, b"letters or digits"),
        ({"name": "x" * 101}, b"at most 100 characters"),
        ({"name": "Ok", "slug": "not a slug"}, b"valid"),
    ],
)
def test_bad_team_input_is_a_form_error(world, admin_client, data, message):
    before = Team.objects.for_tenant(world.tenant).count()
    response = admin_client.post(url("teams", world), data)
    assert response.status_code == 400
    assert message in response.content
    assert Team.objects.for_tenant(world.tenant).count() == before


def test_rename_team(world, admin_client):
    response = admin_client.post(
        url("team", world, world.team.slug), {"name": "Renamed", "description": ""}
    )
    assert response.status_code == 302
    world.team.refresh_from_db()
    assert world.team.name == "Renamed"


def test_add_and_remove_member_with_htmx(world, admin_client):
    newcomer = MembershipFactory(tenant=world.tenant, role=Role.AGENT).user
    endpoint = url("team_members", world, world.team.slug)
    response = admin_client.post(
        endpoint, {"action": "add", "user": newcomer.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b'id="team-members"' in response.content
    assert b"<html" not in response.content  # a fragment, not the page
    assert newcomer.email.encode() in response.content
    assert world.team.members.filter(pk=newcomer.pk).exists()

    response = admin_client.post(
        endpoint, {"action": "remove", "user": newcomer.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert not world.team.members.filter(pk=newcomer.pk).exists()
    assert actions(world)[-2:] == ["team.member_added", "team.member_removed"]


def test_add_member_without_js_redirects(world, admin_client):
    newcomer = MembershipFactory(tenant=world.tenant, role=Role.AGENT).user
    response = admin_client.post(
        url("team_members", world, world.team.slug), {"action": "add", "user": newcomer.pk}
    )
    assert response.status_code == 302
    assert world.team.members.filter(pk=newcomer.pk).exists()


def test_requesters_and_foreign_users_cannot_join_a_team(world, foreign, admin_client):
    endpoint = url("team_members", world, world.team.slug)
    for outsider in (world.user(Role.REQUESTER), foreign.user(Role.AGENT), UserFactory()):
        response = admin_client.post(
            endpoint, {"action": "add", "user": outsider.pk}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 400
        assert not world.team.members.filter(pk=outsider.pk).exists()


def test_set_and_clear_lead(world, admin_client):
    agent = world.user(Role.AGENT)
    endpoint = url("team_members", world, world.team.slug)
    admin_client.post(endpoint, {"action": "lead", "lead": agent.pk})
    world.team.refresh_from_db()
    assert world.team.lead == agent
    admin_client.post(endpoint, {"action": "lead", "lead": ""})
    world.team.refresh_from_db()
    assert world.team.lead is None


def test_removing_the_lead_clears_it(world, admin_client):
    lead = world.user(Role.LEAD)
    admin_client.post(
        url("team_members", world, world.team.slug), {"action": "remove", "user": lead.pk}
    )
    world.team.refresh_from_db()
    assert world.team.lead is None


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"action": "explode"},
        {"action": "add", "user": "abc"},
        {"action": "add", "user": "999999999"},
    ],
)
def test_bad_team_member_input(world, admin_client, data):
    before = set(world.team.members.values_list("pk", flat=True))
    response = admin_client.post(
        url("team_members", world, world.team.slug), data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert set(world.team.members.values_list("pk", flat=True)) == before


def test_overview_shows_counts_and_recent_changes(world, admin_client):
    admin_client.post(url("teams", world), {"name": "Audit Me"})
    response = admin_client.get(url("overview", world))
    body = response.content.decode()
    assert "Team created" in body
    assert "Audit Me" in body
    counts = Membership.objects.for_tenant(world.tenant).filter(is_active=True).count()
    assert counts == 4


# --- organisation settings ----------------------------------------------------------------


def test_rename_and_move_the_tenant(world, admin_client):
    response = admin_client.post(
        url("settings", world), {"name": "Ours Renamed", "timezone": "America/New_York"}
    )
    assert response.status_code == 302
    world.tenant.refresh_from_db()
    assert (world.tenant.name, world.tenant.timezone) == ("Ours Renamed", "America/New_York")
    event = AuditEvent.objects.for_tenant(world.tenant).get(action="tenant.updated")
    assert event.data == {
        "name": ["Ours Org", "Ours Renamed"],
        "timezone": ["Europe/Berlin", "America/New_York"],
    }


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "timezone": "UTC"},
        {"name": "   ", "timezone": "UTC"},
        {"name": "Ok", "timezone": "Mars/Olympus_Mons"},
        {"name": "Ok", "timezone": ""},
        {"name": "x" * 201, "timezone": "UTC"},
    ],
)
def test_bad_tenant_settings_are_form_errors(world, admin_client, data):
    response = admin_client.post(url("settings", world), data)
    assert response.status_code == 400
    assert b"errorlist" in response.content
    world.tenant.refresh_from_db()
    assert (world.tenant.name, world.tenant.timezone) == ("Ours Org", "Europe/Berlin")


def test_times_show_in_the_tenants_zone(world, admin_client):
    from datetime import UTC, datetime

    AuditEvent.objects.create(
        tenant=world.tenant,
        action="probe",
        target="clock",
        created_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
    )
    body = admin_client.get(url("overview", world)).content.decode()
    assert "2026-07-01 14:00" in body  # Europe/Berlin in summer is UTC+2
    assert "When (Europe/Berlin)" in body


@pytest.mark.parametrize("extra", [5, 50])
def test_overview_query_count_is_constant(world, admin_client, django_assert_num_queries, extra):
    for n in range(extra):
        TeamFactory(tenant=world.tenant)
        AuditEvent.objects.create(tenant=world.tenant, action="probe", target=f"t{n}")
    admin_client.get(url("overview", world))
    # session, user, memberships, set row-level tenant, member counts, teams,
    # pending invitations, recent changes, reset
    with django_assert_num_queries(9):
        assert admin_client.get(url("overview", world)).status_code == 200


def test_members_page_has_no_duplicate_ids(world, admin_client):
    import re

    body = admin_client.get(url("members", world)).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', body)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_every_recorded_action_has_a_label():
    import ast
    from pathlib import Path

    from servicedesk.models import AUDIT_ACTION_LABELS

    source = Path(services.__file__).read_text()
    recorded = {
        node.value.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.keyword)
        and node.arg == "action"
        and isinstance(node.value, ast.Constant)
    }
    assert recorded
    assert recorded <= set(AUDIT_ACTION_LABELS)


def test_audit_details_read_as_changes(world):
    event = AuditEvent(
        tenant=world.tenant,
        action="membership.role_changed",
        target="x",
        data={"old": "agent", "new": "lead"},
    )
    assert event.label == "Role changed"
    assert event.details == "agent → lead"
    event = AuditEvent(
        tenant=world.tenant, action="tenant.updated", target="x", data={"name": ["A", "B"]}
    )
    assert event.details == "name: A → B"
