"""What the tenancy core costs: the scoped-query guard and the tenant pages.

Runs against the database in DATABASE_URL (PostgreSQL for figures that mean
something), in a throwaway test database it creates and drops. Prints:

* the guard's cost per query: a scoped read through ``for_tenant`` and one
  scoped by a related manager (which walks the WHERE tree), against the same
  read through a plain manager, and with PostgreSQL's row-level wall raised;
* p50/p95 latency and query count of the desk home, the members list and the
  teams list, in-process (Django test client, no network), for a tenant with
  MEMBERS members and TEAMS teams beside 20 other tenants.

    DATABASE_URL=postgres://servicedesk:servicedesk@127.0.0.1:5432/servicedesk \\
        .venv/bin/python bench/tenancy.py [--members 2000] [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
os.environ["REDIS_URL"] = ""

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from servicedesk.models import Membership, Role, Team, Tenant, User  # noqa: E402
from servicedesk.rls import tenant_context  # noqa: E402


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def seed(members: int, teams: int) -> tuple[Tenant, User]:
    """One big tenant and 20 small ones; every fifth member is an agent."""
    hasher = User(email="hash@bench.test")
    hasher.set_password("bench-password")
    tenants = Tenant.objects.bulk_create(
        [Tenant(slug=f"bench-{n}", name=f"Bench {n}") for n in range(21)]
    )
    big = tenants[0]
    pairs = [
        (
            tenant,
            User(
                email=f"p{n}@{tenant.slug}.test", full_name=f"Person {n}", password=hasher.password
            ),
        )
        for tenant in tenants
        for n in range(members if tenant == big else 50)
    ]
    User.objects.bulk_create([user for _, user in pairs], batch_size=2000)
    Membership.objects.bulk_create(
        [
            Membership(tenant=tenant, user=user, role=Role.AGENT if n % 5 == 0 else Role.REQUESTER)
            for n, (tenant, user) in enumerate(pairs)
        ],
        batch_size=2000,
    )
    admin = pairs[0][1]
    Membership.objects.for_tenant(big).filter(user=admin).update(role=Role.ADMIN)
    made = Team.objects.bulk_create(
        [Team(tenant=big, name=f"Team {n}", slug=f"team-{n}") for n in range(teams)]
    )
    agents = [user for n, (tenant, user) in enumerate(pairs) if tenant == big and n % 5 == 0]
    through = Team.members.through
    through.objects.bulk_create(
        [
            through(team=team, user=agents[(k + n) % len(agents)])
            for k, team in enumerate(made)
            for n in range(8)
        ],
        ignore_conflicts=True,
    )
    return big, admin


def time_queries(label: str, make_queryset, repeat: int) -> float:
    list(make_queryset())  # warm
    started = time.perf_counter()
    for _ in range(repeat):
        list(make_queryset())
    per_query = (time.perf_counter() - started) / repeat * 1e6
    print(f"  {label:<46} {per_query:8.1f} µs/query")
    return per_query


def time_page(client: Client, label: str, url: str, requests: int) -> None:
    client.get(url)  # warm, and the session learns the tenant
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    print(
        f"  {label:<28} p50 {statistics.median(samples):6.1f} ms   "
        f"p95 {percentile(samples, 0.95):6.1f} ms   {len(queries)} queries"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--teams", type=int, default=40)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    # A name of its own, so the test suite's reusable database is left alone.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "bench_servicedesk_tenancy"
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(f"database: {connection.vendor} ({test_db})")
        started = time.perf_counter()
        tenant, admin = seed(args.members, args.teams)
        print(
            f"seeded {args.members} members, {args.teams} teams (+20 tenants) "
            f"in {time.perf_counter() - started:.1f} s"
        )

        print("guard cost per query (10 teams read by slug prefix):")
        plain = time_queries(
            "plain manager, tenant filter",
            lambda: Team._base_manager.filter(tenant=tenant, slug__startswith="team-1")[:10],
            args.repeat,
        )
        scoped = time_queries(
            "for_tenant()",
            lambda: Team.objects.for_tenant(tenant).filter(slug__startswith="team-1")[:10],
            args.repeat,
        )
        with tenant_context(tenant.pk):
            walled = time_queries(
                "for_tenant(), row-level wall raised",
                lambda: Team.objects.for_tenant(tenant).filter(slug__startswith="team-1")[:10],
                args.repeat,
            )
        walked = time_queries(
            "filter(tenant=…) (guard walks the WHERE tree)",
            lambda: Team.objects.filter(tenant=tenant, slug__startswith="team-1")[:10],
            args.repeat,
        )
        print(
            f"  difference per query: for_tenant {scoped - plain:+.1f} µs, "
            f"tree walk {walked - plain:+.1f} µs, row-level wall {walled - scoped:+.1f} µs"
        )
        for label, queryset in (
            ("guard check alone, for_tenant flag", Team.objects.for_tenant(tenant)),
            ("guard check alone, WHERE-tree walk", Team.objects.filter(tenant=tenant, slug="x")),
        ):
            started = time.perf_counter()
            for _ in range(100_000):
                queryset._assert_scoped()
            print(f"  {label:<46} {(time.perf_counter() - started) * 10:8.2f} µs/check")

        print(f"pages ({args.requests} requests each, in-process):")
        client = Client()
        client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
        slug = tenant.slug
        time_page(client, "desk home", reverse("desk", args=[slug]), args.requests)
        time_page(
            client,
            "admin: members (page 1)",
            reverse("tenant_admin:members", args=[slug]),
            args.requests,
        )
        time_page(
            client,
            "admin: members, search",
            reverse("tenant_admin:members", args=[slug]) + "?q=person+1&role=agent",
            args.requests,
        )
        time_page(client, "admin: teams", reverse("tenant_admin:teams", args=[slug]), args.requests)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
