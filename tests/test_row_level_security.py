"""The database's own tenant wall (PostgreSQL row-level security).

These tests go around the ORM guard on purpose (raw SQL, ``unscoped()``) to
show that the second wall holds on its own.
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from servicedesk import rls, selectors
from servicedesk.models import Role, Team


def current_setting() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [rls.SETTING])
        return cursor.fetchone()[0]


def test_every_tenant_owned_table_has_the_policy(db):
    tables = rls.tenant_owned_tables()
    assert {"servicedesk_membership", "servicedesk_team", "servicedesk_invitation"} <= {
        t for t, _ in tables
    }
    with connection.cursor() as cursor:
        for table, _column in tables:
            cursor.execute(
                "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s",
                [table],
            )
            assert cursor.fetchone() == (True, True), table
            cursor.execute(
                "SELECT count(*) FROM pg_policies WHERE tablename = %s AND policyname = %s",
                [table, rls.POLICY],
            )
            assert cursor.fetchone()[0] == 1, table


def test_the_suite_does_not_run_as_a_role_that_bypasses_it(db):
    assert rls.check_role_cannot_bypass(databases=["default"]) == []


def test_raw_sql_sees_only_the_current_tenant(world, foreign):
    with rls.tenant_context(world.tenant.pk), connection.cursor() as cursor:
        cursor.execute("SELECT name FROM servicedesk_team")
        assert [row[0] for row in cursor.fetchall()] == [world.team.name]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM servicedesk_team")
        assert cursor.fetchone()[0] == 2  # no tenant named: platform work sees all


def test_unscoped_orm_reads_see_only_the_current_tenant(world, foreign):
    with rls.tenant_context(foreign.tenant.pk):
        assert list(Team.objects.unscoped()) == [foreign.team]
        assert Team.objects.unscoped().filter(pk=world.team.pk).count() == 0


def test_writes_into_another_tenant_are_refused(world, foreign):
    original_name = foreign.team.name
    with rls.tenant_context(world.tenant.pk):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Team.objects.create(tenant=foreign.tenant, name="Planted", slug="planted")
        updated = Team.objects.unscoped().filter(pk=foreign.team.pk).update(name="Hijacked")
        assert updated == 0
    foreign.team.refresh_from_db()
    assert foreign.team.name == original_name
    assert not Team.objects.unscoped().filter(slug="planted").exists()


def test_a_request_raises_the_wall_and_lowers_it_after(world, foreign, login, monkeypatch):
    """Even a selector that forgot its tenant shows nothing foreign."""
    monkeypatch.setattr(
        selectors, "team_list", lambda *, tenant: Team.objects.unscoped().select_related("lead")
    )
    client = login(world.user(Role.ADMIN))
    body = client.get(reverse("tenant_admin:teams", args=[world.tenant.slug])).content.decode()
    assert world.team.name in body
    assert foreign.team.name not in body
    assert current_setting() == ""


def test_the_wall_is_lowered_even_when_the_view_fails(world, login, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "team_list", explode)
    client = login(world.user(Role.ADMIN))
    client.raise_request_exception = False
    response = client.get(reverse("tenant_admin:teams", args=[world.tenant.slug]))
    assert response.status_code == 500
    assert current_setting() == ""


def test_the_switcher_still_lists_every_tenant_of_the_user(world, foreign, login):
    from tests.servicedesk.factories import MembershipFactory

    user = world.user(Role.AGENT)
    MembershipFactory(tenant=foreign.tenant, user=user, role=Role.REQUESTER)
    body = login(user).get(reverse("desk", args=[world.tenant.slug])).content.decode()
    assert reverse("tenant_home", args=[foreign.tenant.slug]) in body


def test_policies_are_reapplied_idempotently(db):
    first = rls.apply_policies()
    assert first == rls.apply_policies()
    assert "servicedesk_team" in first
