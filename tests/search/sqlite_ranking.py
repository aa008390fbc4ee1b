"""Run the ranking corpus on SQLite's FTS5 engine, in a process of its own.

The suite's database is PostgreSQL and Django binds one engine per process,
so ``test_sqlite_engine`` runs this script with the embedded settings (no
``DATABASE_URL``: a fresh SQLite file under ``VAR_DIR``); it migrates (the
FTS5 table and triggers are made by the same migration as on PostgreSQL),
indexes the corpus through the same interface and prints the cases as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from servicedesk.models import Membership, Role, Tenant, User  # noqa: E402
from tests.search import corpus  # noqa: E402


def main() -> None:
    assert connection.vendor == "sqlite", connection.vendor
    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(slug="probe", name="Probe")
    other = Tenant.objects.create(slug="other", name="Other")
    members = {
        role: Membership.objects.create(
            tenant=tenant, role=role, user=User.objects.create_user(f"{role}@probe.test")
        )
        for role in (Role.REQUESTER, Role.AGENT)
    }
    corpus.register_probe_kind()
    corpus.index_corpus(tenant.pk)
    corpus.index_corpus(other.pk)
    cases = corpus.ranking_cases(tenant.pk, members[Role.REQUESTER], members[Role.AGENT])
    from servicedesk.search import engine

    hostile = {}
    for query in ("&|!():*", '"vpn', "a" * 10_000, "vpn\x00drops", "-vpn", "NEAR(", "col:vpn"):
        result = engine.search(tenant.pk, members[Role.AGENT], query, kinds=[corpus.KIND])
        hostile[query[:20]] = [result.ids, result.message]
    print(json.dumps({"cases": cases, "hostile": hostile}))


if __name__ == "__main__":
    main()
