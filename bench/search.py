"""What the search layer costs at size, on PostgreSQL.

Seeds, with set-based SQL, one big tenant (``--articles`` articles and
``--tickets`` tickets, each ticket with a public reply and an internal note)
beside ``--tenants`` small ones, the text drawn from the real helpdesk
tickets in ``../shared/data/tickets/endava/all_tickets.csv`` (read at run
time, never copied into the project). The search documents are written by
the same trigger that keeps them in production.

Then it measures, through ``servicedesk.search.engine.search`` and the desk's
own selector (the queue's text filter, first page and its count), with
``--queries`` ticket titles from that file as queries:

* article search as a requester and as an agent: p50/p95/p99;
* the desk's ticket search as an agent: p50/p95/p99;
* the index sizes;
* the write cost the index adds to ``ticket_create`` and ``comment_add``
  (statements and ms, with and without the search subscriber).

The seeded database (``bench_servicedesk_search``) is kept for the next run;
``--reseed`` seeds it again, ``--drop`` drops it at the end.

    DATABASE_URL=postgres://servicedesk:servicedesk@127.0.0.1:5432/servicedesk \\
        .venv/bin/python bench/search.py --articles 100000 --tickets 200000
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

from bench.postgres_db import (  # noqa: E402
    database_urls,
    drop_database,
    pg_connect,
    set_synchronous_commit,
)

DATA = ROOT.parent / "shared" / "data" / "tickets" / "endava" / "all_tickets.csv"
BENCH_DB = "bench_servicedesk_search"


def load_corpus() -> list[tuple[str, str]]:
    if not DATA.exists():
        sys.exit(f"{DATA} is missing: the bench reads the Endava tickets from there")
    with DATA.open(newline="", encoding="utf-8") as handle:
        rows = [(r["title"].strip(), r["body"].strip()) for r in csv.DictReader(handle)]
    return [(t, b) for t, b in rows if t and b]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return f"p50 {at(0.50):6.1f} ms   p95 {at(0.95):6.1f} ms   p99 {at(0.99):6.1f} ms"


def seed(args: argparse.Namespace, corpus: list[tuple[str, str]]) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    from servicedesk.models import Membership, Role, Tenant, User

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_text (n int PRIMARY KEY, title text, body text)")
        cursor.executemany(
            "INSERT INTO bench_text VALUES (%s, %s, %s)",
            [(n, t, b) for n, (t, b) in enumerate(corpus)],
        )
        sizes = [("bench-big", args.tickets, args.articles)] + [
            (f"bench-{i}", args.small, args.small // 2) for i in range(args.tenants)
        ]
        for slug, n_tickets, n_articles in sizes:
            tenant = Tenant.objects.create(slug=slug, name=slug.title())
            people = {}
            for role in (Role.REQUESTER, Role.AGENT):
                user = User.objects.create_user(f"{role}@{slug}.bench", "bench-password")
                people[role] = Membership.objects.create(tenant=tenant, user=user, role=role)
            params = {
                "tenant": tenant.pk,
                "n": n_tickets,
                "requester": people[Role.REQUESTER].user_id,
                "agent": people[Role.AGENT].user_id,
                "texts": len(corpus),
                "articles": n_articles,
            }
            cursor.execute(
                """
                INSERT INTO tickets_ticket (
                    tenant_id, kind, number, title, description, status, impact, urgency,
                    priority, priority_override_reason, requester_id, is_confidential, source,
                    created_at, updated_at, resolution_code, resolution_notes, reopen_count,
                    thread_id)
                SELECT %(tenant)s, 'incident', g, left(t.title, 200), t.body,
                       (ARRAY['new','in_progress','resolved','closed'])[1 + g %% 4], 3, 3, 5, '',
                       %(requester)s, g %% 100 = 0, 'portal', now() - g * interval '1 minute',
                       now() - g * interval '1 minute', '', '', 0, ''
                FROM generate_series(1, %(n)s) g JOIN bench_text t ON t.n = g %% %(texts)s
                """,
                params,
            )
            cursor.execute(
                """
                INSERT INTO tickets_comment (tenant_id, ticket_id, author_id, body, is_internal,
                                             source, created_at, moved_from)
                SELECT tk.tenant_id, tk.id, %(agent)s,
                       CASE WHEN k = 0 THEN 'Thanks, we are looking at it: ' || left(t.body, 120)
                            ELSE 'Internal: checked the logs, ' || left(t.title, 60) END,
                       k = 1, 'desk', tk.created_at, ''
                FROM tickets_ticket tk, generate_series(0, 1) k, bench_text t
                WHERE tk.tenant_id = %(tenant)s AND t.n = (tk.number * 7) %% %(texts)s
                """,
                params,
            )
            cursor.execute(
                "INSERT INTO tickets_ticketcounter (tenant_id, kind, last_number) "
                "VALUES (%(tenant)s, 'incident', %(n)s)",
                params,
            )
            cursor.execute(
                """
                INSERT INTO kb_article (
                    tenant_id, title, body, category, tags, owner_id, status, audience,
                    is_overdue, review_comment, views, helpful_yes, helpful_no, deflections,
                    created_at, updated_at)
                SELECT %(tenant)s, left(initcap(t.title), 200),
                       '## Steps' || E'\\n\\n' || t.body, 'General', '["bench"]'::jsonb,
                       %(agent)s,
                       CASE WHEN g %% 10 = 0 THEN 'draft' ELSE 'published' END,
                       (ARRAY['requesters','requesters','requesters','agents','teams'])
                           [1 + g %% 5],
                       false, '', 0, 0, 0, 0, now(), now()
                FROM generate_series(1, %(articles)s) g
                JOIN bench_text t ON t.n = (g * 13) %% %(texts)s
                """,
                params,
            )
            # The documents, as the in-transaction writers would have left them.
            cursor.execute(
                """
                INSERT INTO search_searchdocument (tenant_id, kind, object_id, title, keywords,
                    body, internal, language, is_restricted, is_public, updated_at)
                SELECT tk.tenant_id, 'ticket', tk.id, tk.title,
                       'INC-' || tk.number || ' ' || u.email,
                       tk.description || E'\\n\\n' || coalesce(string_agg(c.body, E'\\n\\n')
                           FILTER (WHERE NOT c.is_internal), ''),
                       coalesce(string_agg(c.body, E'\\n\\n') FILTER (WHERE c.is_internal), ''),
                       'english', tk.is_confidential, false, now()
                FROM tickets_ticket tk
                JOIN servicedesk_user u ON u.id = tk.requester_id
                LEFT JOIN tickets_comment c ON c.ticket_id = tk.id
                WHERE tk.tenant_id = %(tenant)s
                GROUP BY tk.id, u.email
                """,
                params,
            )
            cursor.execute(
                """
                INSERT INTO search_searchdocument (tenant_id, kind, object_id, title, keywords,
                    body, internal, language, is_restricted, is_public, updated_at)
                SELECT tenant_id, 'article', id, title, 'bench General', body, '', 'english',
                       audience = 'teams', status = 'published' AND audience = 'requesters', now()
                FROM kb_article WHERE tenant_id = %(tenant)s
                """,
                params,
            )
            print(f"  seeded {slug}: {n_tickets:,} tickets, {n_articles:,} articles", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)


def measure(args: argparse.Namespace, corpus: list[tuple[str, str]]) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from servicedesk.models import Membership, Role, Tenant
    from servicedesk.search import engine
    from tickets import hooks, selectors, services
    from tickets.search import on_ticket_change

    tenant = Tenant.objects.get(slug="bench-big")
    members = {
        m.role: m for m in Membership.objects.for_tenant(tenant).select_related("user", "tenant")
    }
    requester, agent = members[Role.REQUESTER], members[Role.AGENT]
    titles = [t for t, _ in corpus]
    step = max(1, len(titles) // args.queries)
    queries = titles[::step][: args.queries]
    print(f"\n{len(queries)} queries (Endava ticket titles), tenant bench-big")

    def timed(call) -> list[float]:
        for query in queries[:20]:
            call(query)  # warm the caches
        samples = []
        for query in queries:
            started = time.perf_counter()
            call(query)
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    print(
        "article search, requester   ",
        percentiles(timed(lambda q: engine.search(tenant, requester, q, kinds=["article"]))),
    )
    print(
        "article search, agent       ",
        percentiles(timed(lambda q: engine.search(tenant, agent, q, kinds=["article"]))),
    )
    print(
        "ticket search (interface)   ",
        percentiles(timed(lambda q: engine.search(tenant, agent, q, kinds=["ticket"]))),
    )

    def desk(query: str) -> None:
        tickets = selectors.ticket_queue(
            membership=agent,
            queue="open",
            filters=selectors.QueueFilters(text=query),
            team_ids=[],
        )
        list(tickets[:25])
        tickets.count()

    print("desk queue text filter      ", percentiles(timed(desk)), "(page of 25 + count)")
    fuzzy = sum(
        1
        for q in queries[:200]
        if any(h.is_fuzzy for h in engine.search(tenant, agent, q, kinds=["article"]).hits)
    )
    print(f"typo fallback ran for {fuzzy} of the first 200 article queries")

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_size_pretty(pg_relation_size(c.oid))
            FROM pg_class c
            WHERE c.relname LIKE 'search_%%' AND c.relkind IN ('r', 'i')
            ORDER BY pg_relation_size(c.oid) DESC
            """
        )
        print("\nsizes (all tenants):")
        for name, size in cursor.fetchall():
            print(f"  {name:45} {size}")
        cursor.execute("SELECT count(*) FROM search_searchdocument")
        print(f"  documents: {cursor.fetchone()[0]:,}")

    actor = services.Actor.of(agent)

    def write_cost(label: str) -> None:
        statements, times = [], []
        for i in range(30):
            with transaction.atomic():
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    ticket = services.ticket_create(
                        actor=actor,
                        kind="incident",
                        title=f"VPN drops again {i}",
                        description="The tunnel resets every few minutes.",
                        requester=requester.user,
                    )
                    services.comment_add(actor=actor, ticket=ticket, body="Looking into it.")
                    times.append((time.perf_counter() - started) * 1000)
                statements.append(len(captured))
                transaction.set_rollback(True)
        print(
            f"  {label:28} {statistics.median(statements):4.0f} statements, "
            f"{statistics.median(times):6.1f} ms (median of 30; create + one reply)"
        )

    print("\nwrite cost of ticket_create + comment_add:")
    with services.notifications_muted():
        write_cost("with the search document")
        hooks.unsubscribe("search.tickets")
        write_cost("without (subscriber off)")
        hooks.subscribe(
            "search.tickets",
            on_ticket_change,
            order=50,
            happened=(
                hooks.Happened.CREATED,
                hooks.Happened.UPDATED,
                hooks.Happened.TRANSITIONED,
                hooks.Happened.COMMENTED,
                hooks.Happened.MERGED,
            ),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--small", type=int, default=2_000, help="tickets per small tenant")
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    base_url, bench_url = database_urls(base, BENCH_DB, "bench/search.py")
    corpus = load_corpus()
    admin = pg_connect(base_url)
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB])
        exists = cursor.fetchone() is not None
        if exists and args.reseed:
            drop_database(base_url, bench_url)
            exists = False
        if not exists:
            cursor.execute(f'CREATE DATABASE "{BENCH_DB}"')
    admin.close()
    set_synchronous_commit(bench_url, on=False)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    import django

    django.setup()
    if not exists:
        seed(args, corpus)
    try:
        measure(args, corpus)
    finally:
        if args.drop:
            from django.db import connections

            connections.close_all()
            drop_database(base_url, bench_url)


if __name__ == "__main__":
    main()
