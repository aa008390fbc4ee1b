"""The scoped manager: reads go through a tenant or fail loudly."""

from __future__ import annotations

import pytest
from django.db.models import Count

from servicedesk.models import Membership, Team
from servicedesk.tenancy import UnscopedQueryError
from tests.servicedesk.factories import TeamFactory


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(lambda: list(Team.objects.all()), id="list"),
        pytest.param(lambda: Team.objects.get(slug="x"), id="get"),
        pytest.param(lambda: Team.objects.filter(slug="x").first(), id="first"),
        pytest.param(lambda: Team.objects.count(), id="count"),
        pytest.param(lambda: Team.objects.exists(), id="exists"),
        pytest.param(lambda: Team.objects.aggregate(n=Count("id")), id="aggregate"),
        pytest.param(lambda: list(Team.objects.values_list("slug")), id="values_list"),
        pytest.param(lambda: list(Team.objects.iterator()), id="iterator"),
        pytest.param(lambda: Team.objects.update(name="x"), id="update"),
        pytest.param(lambda: Team.objects.filter(slug="x").delete(), id="delete"),
        pytest.param(lambda: list(Team.objects.exclude(tenant__slug="ours")), id="negated-tenant"),
    ],
)
def test_unscoped_query_raises(world, foreign, query):
    with pytest.raises(UnscopedQueryError, match="Team queried without a tenant"):
        query()


def test_for_tenant_returns_only_that_tenant(world, foreign):
    ours = list(Team.objects.for_tenant(world.tenant))
    assert ours == [world.team]
    assert list(Team.objects.for_tenant(foreign.tenant.pk)) == [foreign.team]


def test_scope_survives_chaining(world, foreign):
    qs = Team.objects.for_tenant(world.tenant).filter(slug=world.team.slug).order_by("name")
    assert qs.get() == world.team
    assert qs.count() == 1


def test_explicit_tenant_filter_counts_as_scoped(world, foreign):
    assert Team.objects.filter(tenant=world.tenant).get() == world.team
    assert Team.objects.filter(tenant_id__in=[world.tenant.pk]).count() == 1


def test_tenant_filter_under_or_does_not_count(world, foreign):
    from django.db.models import Q

    with pytest.raises(UnscopedQueryError):
        list(Team.objects.filter(Q(tenant=world.tenant) | Q(slug=foreign.team.slug)))


def test_unscoped_is_the_explicit_escape_hatch(world, foreign):
    assert Team.objects.unscoped().count() == 2


def test_django_internals_keep_working(world):
    membership = Membership.objects.for_tenant(world.tenant).first()
    membership.refresh_from_db()
    assert membership.tenant == world.tenant
    team = TeamFactory(tenant=world.tenant)
    team.delete()  # deletion collects through the plain base manager


def test_unique_validation_runs_inside_the_tenant(world, foreign):
    """Model validation of tenant-led constraints passes the guard."""
    clash = Team(tenant=world.tenant, name=world.team.name, slug=world.team.slug)
    with pytest.raises(Exception, match="already exists"):
        clash.full_clean()
    # The same slug in another tenant is fine.
    Team(tenant=foreign.tenant, name=world.team.name, slug=world.team.slug).full_clean()
