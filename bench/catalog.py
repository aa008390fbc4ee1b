"""What the portal's catalog costs: the catalog page with ITEMS published
items across categories, an item page with a 30-field form, and placing
an order, in-process (Django test client, no network), in a test database.

Prints p50 / p95 wall time and CPU time per request and the queries of each.

    DATABASE_URL=postgres://servicedesk:servicedesk@127.0.0.1:5432/servicedesk \\
        .venv/bin/python bench/catalog.py [--items 200] [--requests 50]
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

CATEGORIES = ["Hardware", "Software", "Access", "E-mail", "Storage", "People", "Network", "Phones"]


def form(fields: int) -> list[dict[str, object]]:
    schema: list[dict[str, object]] = [
        {"key": "model", "type": "choice", "label": "Model", "required": True,
         "choices": ["standard", "performance", "mac"]},
        {"key": "cost", "type": "number", "label": "Cost", "min": 0, "integer": True},
        {"key": "why", "type": "long_text", "label": "Justification", "required": True,
         "show_when": {"field": "cost", "op": "gt", "value": 1000}},
        {"key": "manager", "type": "person", "label": "Manager"},
    ]  # fmt: skip
    schema += [{"key": f"f{i}", "type": "text", "label": f"Detail {i}"} for i in range(fields - 4)]
    return schema


def measure(client, method: str, url: str, data: dict | None, requests: int) -> str:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call = getattr(client, method)
    call(url, data or {})  # warm: templates compiled, session read
    walls, cpus = [], []
    for _ in range(requests):
        wall, cpu = time.perf_counter(), time.process_time()
        response = call(url, data or {})
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        assert response.status_code in (200, 302), response.status_code
    with CaptureQueriesContext(connection) as queries:
        call(url, data or {})
    walls.sort()
    p95 = walls[int(0.95 * (len(walls) - 1))]
    return (
        f"p50 {statistics.median(walls) * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms wall; "
        f"{statistics.median(cpus) * 1e3:.1f} ms CPU; {len(queries)} queries"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--fields", type=int, default=30)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    os.environ["REDIS_URL"] = ""

    import django

    django.setup()

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from catalog import services
    from servicedesk.models import Role
    from tests.servicedesk.factories import MembershipFactory, TenantFactory, UserFactory
    from tickets.services import notifications_muted

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "bench_servicedesk_catalog"
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        tenant = TenantFactory(slug="bench-catalog", name="Bench")
        requester = MembershipFactory(tenant=tenant, role=Role.REQUESTER, user=UserFactory())
        for _n in range(30):  # people a person field lists
            MembershipFactory(tenant=tenant, role=Role.REQUESTER, user=UserFactory())
        items = [
            services.item_create(
                tenant=tenant,
                name=f"Item {n:03d}",
                category=CATEGORIES[n % len(CATEGORIES)],
                short_description=f"Something people order, number {n}",
                status="published",
                form_schema=form(args.fields),
            )
            for n in range(args.items)
        ]
        client = Client()
        client.force_login(requester.user, backend="django.contrib.auth.backends.ModelBackend")
        slug = tenant.slug
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[1]
        print(f"{engine}, {args.requests} requests each")
        home = reverse("catalog:portal_catalog", args=[slug])
        print(
            f"catalog page, {args.items} items: "
            + measure(client, "get", home, None, args.requests)
        )
        print(
            "catalog page searched ('number 1'): "
            + measure(client, "get", home, {"q": "number 1"}, args.requests)
        )
        item = reverse("catalog:portal_item", args=[slug, items[0].pk])
        print(
            f"item page, {args.fields}-field form: "
            + measure(client, "get", item, None, args.requests)
        )
        answers = {"a-model": "performance", "a-cost": "1500", "a-why": "Bench", "a-f5": "x"}
        with notifications_muted():
            print("placing an order: " + measure(client, "post", item, answers, args.requests))
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
