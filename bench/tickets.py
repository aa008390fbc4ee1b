"""What tickets cost at size: the desk queue, the API list and API creation
under gunicorn on PostgreSQL, each set against a bare Django view.

Seeds TICKETS tickets over TENANTS tenants, one of them (``bench-big``)
holding BIG, with set-based SQL (every index, constraint and row-level
policy in place), then serves the application with gunicorn on 127.0.0.1
and measures, over HTTP:

* the desk queue page ``/t/bench-big/desk/`` and ``GET /api/v1/tickets/``:
  p50/p95/max over sequential requests, as one agent of the big tenant
  (a session cookie for the page, an API token for the API);
* ``POST /api/v1/tickets/``: tickets per second with 1 and 8 concurrent clients;
* the same for ``bench/bare.py``, a view with no logic that lists or inserts
  rows of one plain table, in the same process and database; our figures are
  printed as ratios to it, next to the targets.

Query counts per request come from the Django test client in this process,
against the same database. The seeded database (``bench_servicedesk_tickets``
next to the one DATABASE_URL names, or ``..._<tickets>`` for other sizes) is
kept for the next run, which reuses it; ``--reseed`` seeds it again and
``--drop`` drops it at the end. Tickets the run creates are deleted again.

    bash scripts/test-services.sh
    DATABASE_URL=postgres://servicedesk:servicedesk@127.0.0.1:5432/servicedesk \\
        .venv/bin/python bench/tickets.py                # 1,000,000 tickets
    .venv/bin/python bench/tickets.py --tickets 20000 --tenants 5 --big 5000   # quick check
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# This file is named like the tickets app: keep its folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

from bench.postgres_db import (  # noqa: E402
    database_name,
    database_urls,
    drop_database,
    pg_connect,
    set_synchronous_commit,
)

DEFAULT_URL = "postgres://servicedesk:servicedesk@127.0.0.1:5432/servicedesk"
BIG_SLUG = "bench-big"
AGENTS_PER_TENANT = 20
REQUESTERS_BIG = 500
REQUESTERS_OTHER = 100
TEAMS = ("Service desk", "Network", "Workplace", "Applications", "Security", "Facilities")
CATEGORIES = (
    "Access",
    "Hardware",
    "Software",
    "Network",
    "E-mail",
    "Accounts",
    "Facilities",
    "Other",
)
TAG_COUNT = 30
SPAN_SECONDS = 730 * 24 * 3600  # tickets are spread over two years
TARGET_P95_MS = 100.0
TARGET_QUERIES = 15
TARGET_CREATE_RATIO = 0.40


# --- The database ------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    tickets: int
    tenants: int
    big: int

    def per_tenant(self) -> list[int]:
        """Tickets of each tenant, the big one first."""
        rest, others = self.tickets - self.big, self.tenants - 1
        return [self.big] + [
            rest // others + (1 if n < rest % others else 0) for n in range(others)
        ]


def prepare_database(base_url: str, bench_url: str, size: Size, reseed: bool) -> float | None:
    """Create the bench database unless a complete seed of this size is
    there; the seconds that seed took when it is reused, else None."""
    name = database_name(bench_url)
    admin = pg_connect(base_url)
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cursor.fetchone() is not None
        if exists and not reseed:
            bench = pg_connect(bench_url)
            try:
                with bench.cursor() as cursor:
                    cursor.execute("SELECT to_regclass('bench_seed') IS NOT NULL")
                    row = cursor.fetchone()
                    if row and row[0]:
                        cursor.execute("SELECT tickets, tenants, big, seconds FROM bench_seed")
                        seed = cursor.fetchone()
                        if seed and tuple(seed[:3]) == (size.tickets, size.tenants, size.big):
                            return float(seed[3])
            finally:
                bench.close()
        with admin.cursor() as cursor:
            if exists:
                # A partial or other-sized seed: start over.
                cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()
    return None


# --- Seeding: set-based SQL, one tenant at a time -------------------------------------------

USERS_SQL = """
INSERT INTO servicedesk_user
    (password, last_login, is_superuser, email, full_name, is_active, is_staff, date_joined)
SELECT '!bench', NULL, false, %(prefix)s || g || '@' || %(slug)s || '.bench.test',
       %(name)s || ' ' || g, true, false, %(now)s::timestamptz - interval '3 years'
FROM generate_series(1, %(count)s) AS g
ORDER BY g
RETURNING id
"""

MEMBERSHIPS_SQL = """
INSERT INTO servicedesk_membership
    (tenant_id, user_id, role, is_active, organisation, is_vip, created_at)
SELECT %(tenant)s, user_id,
       CASE WHEN NOT %(staff)s THEN 'requester'
            WHEN n = 2 THEN 'admin' WHEN n IN (3, 4) THEN 'lead' ELSE 'agent' END,
       true, '', false, %(now)s
FROM unnest(%(users)s::bigint[]) WITH ORDINALITY AS m(user_id, n)
"""

# Kinds by slot of 20: 12 incidents, 6 requests, 1 problem, 1 change; the
# number within a kind follows from the slot, so numbers grow with time and
# the counters end at each kind's maximum. About 15 % are open: 70 % of the
# newest 3 %, 12.5 % of the rest. Done tickets were updated within ten days.
TICKETS_SQL = """
WITH drawn AS MATERIALIZED (
    SELECT g, (g - 1) %% 20 AS slot, (g - 1) / 20 AS lap,
           %(now)s::timestamptz
               - make_interval(secs => %(span)s * (1 - g::float8 / %(n)s) + random() * 600)
               AS created_at,
           g > %(n)s * 0.97 AS recent,
           random() AS r_open, random() AS r_state, random() AS r_impact, random() AS r_urgency,
           random() AS r_requester, random() AS r_assignee, random() AS r_team,
           random() AS r_category, random() AS r_flag, random() AS r_source, random() AS r_time
    FROM generate_series(1, %(n)s) AS g
), shaped AS (
    SELECT *,
           CASE WHEN slot < 12 THEN 'incident' WHEN slot < 18 THEN 'request'
                WHEN slot = 18 THEN 'problem' ELSE 'change' END AS kind,
           CASE WHEN slot < 12 THEN lap * 12 + slot + 1 WHEN slot < 18 THEN lap * 6 + slot - 11
                ELSE lap + 1 END AS number,
           r_open < CASE WHEN recent THEN 0.7 ELSE 0.125 END AS is_open,
           CASE WHEN r_impact < 0.1 THEN 1 WHEN r_impact < 0.4 THEN 2 ELSE 3 END AS impact,
           CASE WHEN r_urgency < 0.15 THEN 1 WHEN r_urgency < 0.5 THEN 2 ELSE 3 END AS urgency,
           (ARRAY['portal', 'portal', 'email', 'email', 'api', 'desk', 'alert'])
               [1 + floor(r_source * 7)::int] AS source
    FROM drawn
), stated AS (
    SELECT *,
           CASE WHEN is_open THEN
                    CASE WHEN r_state < 0.25 THEN 'new' WHEN r_state < 0.7 THEN 'in_progress'
                         WHEN kind = 'problem' AND r_state > 0.9 THEN 'known_error'
                         ELSE 'pending' END
                WHEN recent THEN
                    CASE WHEN r_state < 0.5 THEN 'resolved' WHEN r_state < 0.95 THEN 'closed'
                         ELSE 'cancelled' END
                ELSE CASE WHEN r_state < 0.93 THEN 'closed' ELSE 'cancelled' END
           END AS status,
           least(%(now)s::timestamptz, created_at + CASE
               WHEN is_open THEN (%(now)s::timestamptz - created_at) * r_time
               ELSE make_interval(secs => 864000 * r_time) END) AS updated_at
    FROM shaped
)
INSERT INTO tickets_ticket (
    tenant_id, kind, number, title, description, status, impact, urgency, priority,
    priority_override_reason, requester_id, assignee_id, team_id, category_id,
    is_confidential, source, created_at, updated_at, first_response_at, resolved_at,
    closed_at, resolution_code, resolution_notes, reopen_count, thread_id
)
SELECT
    %(tenant)s, kind, number,
    (ARRAY['VPN', 'Laptop', 'Printer', 'E-mail', 'Wi-Fi', 'Payroll app', 'CRM', 'Desk phone',
           'Shared drive', 'Badge reader', 'Monitor', 'Build server'])[1 + g %% 12]
        || ' ' || (ARRAY['does not start', 'is slow', 'keeps disconnecting', 'shows an error',
                         'needs access for a new starter', 'asks for a new password', 'is down',
                         'cannot be reached from home', 'needs a licence'])[1 + (g / 12) %% 9],
    'Reported through the ' || source || E'.\\n\\n' || repeat(md5(g::text) || ' ', 1 + g %% 8),
    status, impact, urgency, impact + urgency - 1, '',
    (%(requesters)s::bigint[])[1 + floor(r_requester * %(n_requesters)s)::int],
    CASE WHEN r_assignee < CASE WHEN is_open THEN 0.3 ELSE 0.05 END THEN NULL
         ELSE (%(agents)s::bigint[])[1 + floor(r_assignee * 1e6)::int %% %(n_agents)s] END,
    CASE WHEN r_team < 0.1 THEN NULL
         ELSE (%(teams)s::bigint[])[1 + floor(r_team * 1e6)::int %% %(n_teams)s] END,
    CASE WHEN r_category < 0.2 THEN NULL
         ELSE (%(categories)s::bigint[])[1 + floor(r_category * 1e6)::int %% %(n_categories)s]
    END,
    r_flag < 0.01, source, created_at, updated_at,
    CASE WHEN status = 'new' THEN NULL
         ELSE least(updated_at, created_at + make_interval(secs => 14400 * r_time)) END,
    CASE status WHEN 'resolved' THEN updated_at
                WHEN 'closed' THEN greatest(created_at, updated_at - interval '7 days') END,
    CASE WHEN status IN ('closed', 'cancelled') THEN updated_at END,
    CASE WHEN status IN ('resolved', 'closed')
         THEN (ARRAY['solved', 'solved', 'solved', 'workaround', 'user_error', 'no_fault_found'])
              [1 + floor(r_state * 1e3)::int %% 6]
         ELSE '' END,
    CASE WHEN status IN ('resolved', 'closed') THEN 'Done; see the conversation.' ELSE '' END,
    CASE WHEN r_flag > 0.97 THEN 1 ELSE 0 END,
    ''
FROM stated
ORDER BY g
"""

# One tag on a fifth of the tickets, a second on a twentieth.
TICKET_TAGS_SQL = """
INSERT INTO tickets_tickettag (tenant_id, ticket_id, tag_id)
SELECT tenant_id, id, (%(tags)s::bigint[])[1 + (id * 31 + k) %% %(n_tags)s]
FROM tickets_ticket, generate_series(0, 1) AS k
WHERE tenant_id = %(tenant)s AND ((k = 0 AND random() < 0.2) OR (k = 1 AND random() < 0.05))
ON CONFLICT DO NOTHING
"""

COUNTERS_SQL = """
INSERT INTO tickets_ticketcounter (tenant_id, kind, last_number)
SELECT tenant_id, kind, max(number) FROM tickets_ticket GROUP BY tenant_id, kind
"""


def returning_ids(cursor: Any, sql: str, params: Any) -> list[int]:
    cursor.execute(sql, params)
    return [row[0] for row in cursor.fetchall()]


def seed_tenant(cursor: Any, index: int, tickets: int, now: datetime) -> None:
    slug = BIG_SLUG if index == 0 else f"bench-{index:02d}"
    tenant = returning_ids(
        cursor,
        "INSERT INTO servicedesk_tenant (slug, name, timezone, is_active, created_at) "
        "VALUES (%s, %s, 'UTC', true, %s) RETURNING id",
        [slug, "Bench big" if index == 0 else f"Bench {index:02d}", now],
    )[0]
    base = {"tenant": tenant, "slug": slug, "now": now}
    agents = returning_ids(
        cursor, USERS_SQL, {**base, "prefix": "agent", "name": "Agent", "count": AGENTS_PER_TENANT}
    )
    requesters = returning_ids(
        cursor,
        USERS_SQL,
        {
            **base,
            "prefix": "user",
            "name": "Requester",
            "count": REQUESTERS_BIG if index == 0 else REQUESTERS_OTHER,
        },
    )
    cursor.execute(MEMBERSHIPS_SQL, {**base, "users": agents, "staff": True})
    cursor.execute(MEMBERSHIPS_SQL, {**base, "users": requesters, "staff": False})
    teams = returning_ids(
        cursor,
        "INSERT INTO servicedesk_team (tenant_id, name, slug, description, lead_id, created_at) "
        "SELECT %(tenant)s, name, lower(replace(name, ' ', '-')), '', NULL, %(now)s "
        "FROM unnest(%(names)s::text[]) WITH ORDINALITY AS t(name, n) ORDER BY n RETURNING id",
        {**base, "names": list(TEAMS)},
    )
    # Every agent is in one team, every other agent in a second one.
    cursor.execute(
        "INSERT INTO servicedesk_team_members (team_id, user_id) "
        "SELECT (%(teams)s::bigint[])[1 + (n + k) %% %(n_teams)s], user_id "
        "FROM unnest(%(agents)s::bigint[]) WITH ORDINALITY AS a(user_id, n), "
        "generate_series(0, 2, 2) AS k WHERE k = 0 OR n %% 2 = 1",
        {"teams": teams, "n_teams": len(teams), "agents": agents},
    )
    categories = returning_ids(
        cursor,
        "INSERT INTO tickets_category (tenant_id, name) "
        "SELECT %(tenant)s, name FROM unnest(%(names)s::text[]) AS name RETURNING id",
        {**base, "names": list(CATEGORIES)},
    )
    tags = returning_ids(
        cursor,
        "INSERT INTO tickets_tag (tenant_id, name) "
        "SELECT %(tenant)s, 'topic-' || lpad(g::text, 2, '0') "
        "FROM generate_series(1, %(count)s) AS g RETURNING id",
        {**base, "count": TAG_COUNT},
    )
    cursor.execute(
        TICKETS_SQL,
        {
            **base,
            "n": tickets,
            "span": SPAN_SECONDS,
            "requesters": requesters,
            "n_requesters": len(requesters),
            "agents": agents,
            "n_agents": len(agents),
            "teams": teams,
            "n_teams": len(teams),
            "categories": categories,
            "n_categories": len(categories),
        },
    )
    cursor.execute(TICKET_TAGS_SQL, {"tenant": tenant, "tags": tags, "n_tags": len(tags)})


def seed(size: Size) -> float:
    from django.db import connection

    started = time.perf_counter()
    now = datetime.now().astimezone()
    with connection.cursor() as cursor:
        for index, tickets in enumerate(size.per_tenant()):
            seed_tenant(cursor, index, tickets, now)
            if index in (0, size.tenants - 1) or index % 10 == 0:
                print(
                    f"  seeded tenant {index + 1}/{size.tenants} "
                    f"({tickets:,} tickets) at {time.perf_counter() - started:.0f} s",
                    flush=True,
                )
        cursor.execute(COUNTERS_SQL)
        for table in (
            "servicedesk_tenant",
            "servicedesk_user",
            "servicedesk_membership",
            "servicedesk_team",
            "servicedesk_team_members",
            "tickets_category",
            "tickets_tag",
            "tickets_ticket",
            "tickets_tickettag",
            "tickets_ticketcounter",
        ):
            # As autovacuum would leave them: statistics and the visibility map.
            cursor.execute(f"VACUUM ANALYZE {table}")
        seconds = time.perf_counter() - started
        cursor.execute(
            "CREATE TABLE bench_seed (tickets integer, tenants integer, big integer, "
            "seconds double precision, seeded_at timestamptz)"
        )
        cursor.execute(
            "INSERT INTO bench_seed VALUES (%s, %s, %s, %s, now())",
            [size.tickets, size.tenants, size.big, seconds],
        )
    return seconds


# --- The run's fixtures: who calls, and the bare table ---------------------------------------


@dataclass
class Fixture:
    slug: str
    tenant_id: int
    user_id: int
    session_cookie: str
    token: str
    token_id: int
    last_ticket_id: int
    shape: str = ""
    # Tickets this run makes, keyed by the length of their timeline.
    timeline_keys: dict[int, str] = field(default_factory=dict)


def make_fixture() -> Fixture:
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    from bench.bare import TABLE, TABLE_SQL, WRITES_SQL, WRITES_TABLES
    from servicedesk.models import Membership, Tenant
    from servicedesk.services import api_token_create

    tenant = Tenant.objects.get(slug=BIG_SLUG)
    # The first seeded agent: plain agent role, two teams, tickets of its own.
    membership = (
        Membership.objects.for_tenant(tenant)
        .filter(role="agent", user__email__startswith="agent1@")
        .select_related("user")
        .get()
    )
    user = membership.user
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session["last_tenant"] = tenant.slug
    session.create()
    token, secret = api_token_create(
        tenant=tenant,
        actor=None,
        user=user,
        name="ticket benchmark",
        scopes=["tickets:read", "tickets:write"],
    )
    with connection.cursor() as cursor:
        cursor.execute(TABLE_SQL)
        cursor.execute(f"TRUNCATE {TABLE}")
        cursor.execute(
            f"INSERT INTO {TABLE} (title, body) "  # noqa: S608
            "SELECT 'Row ' || g, repeat(md5(g::text) || ' ', 4) FROM generate_series(1, 1000) g"
        )
        cursor.execute(f"ANALYZE {TABLE}")
        cursor.execute(WRITES_SQL)
        cursor.execute(f"TRUNCATE {', '.join(WRITES_TABLES)}")
        cursor.execute("SELECT coalesce(max(id), 0) FROM tickets_ticket")
        last_ticket_id = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE status IN "
            "('new', 'in_progress', 'pending', 'known_error')), "
            "count(*) FILTER (WHERE status IN ('new', 'in_progress', 'pending', 'known_error') "
            "AND assignee_id = %s) FROM tickets_ticket WHERE tenant_id = %s",
            [user.pk, tenant.pk],
        )
        total, open_, mine = cursor.fetchone()
    return Fixture(
        slug=tenant.slug,
        tenant_id=tenant.pk,
        user_id=user.pk,
        session_cookie=f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
        token=secret,
        token_id=token.pk,
        last_ticket_id=last_ticket_id,
        shape=(
            f"{tenant.slug}: {total:,} tickets, {open_ / max(total, 1):.1%} open; "
            f"the agent ({user.email}) has {mine:,} open tickets assigned"
        ),
    )


def clean_up(fixture: Fixture) -> None:
    """Delete what the run made: its tickets (and the rows that point at
    them), its token and session, so the next run starts from the seed."""
    from django.contrib.sessions.models import Session
    from django.db import connection

    from servicedesk.models import ApiToken

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND c.confrelid = 'tickets_ticket'::regclass "
            "AND c.conrelid <> 'tickets_ticket'::regclass"
        )
        for table, column in cursor.fetchall():
            cursor.execute(
                f'DELETE FROM {table} WHERE "{column}" > %s',  # noqa: S608
                [fixture.last_ticket_id],
            )
        cursor.execute("DELETE FROM tickets_ticket WHERE id > %s", [fixture.last_ticket_id])
        cursor.execute(
            "UPDATE tickets_ticketcounter c SET last_number = coalesce((SELECT max(number) "
            "FROM tickets_ticket t WHERE t.tenant_id = c.tenant_id AND t.kind = c.kind), 0) "
            "WHERE c.tenant_id = %s",
            [fixture.tenant_id],
        )
    ApiToken.objects.for_tenant(fixture.tenant_id).filter(pk=fixture.token_id).delete()
    Session.objects.filter(session_key=fixture.session_cookie.partition("=")[2]).delete()


def timeline_ticket(fixture: Fixture, entries: int) -> str:
    """A ticket of the big tenant with ``entries`` entries in its timeline
    (replies in markdown, internal notes and field changes, as the services
    record them); its key."""
    from servicedesk.models import Membership
    from servicedesk.rls import tenant_context
    from tickets import selectors, services
    from tickets.models import Level, TicketKind

    with tenant_context(fixture.tenant_id):
        membership = (
            Membership.objects.for_tenant(fixture.tenant_id)
            .select_related("user", "tenant")
            .get(user_id=fixture.user_id)
        )
        actor = services.Actor.of(membership)
        ticket = services.ticket_create(
            actor=actor,
            kind=TicketKind.INCIDENT,
            title="Benchmark: the VPN drops every few minutes",
            description="Since this morning the **VPN** drops every few minutes.",
            impact=Level.MEDIUM,
            urgency=Level.MEDIUM,
            source="desk",
        )
        n = 0
        while len(selectors.ticket_timeline(ticket=ticket, viewer=membership)) < entries:
            n += 1
            if n % 5 == 0:
                ticket = services.ticket_update(
                    actor=actor, ticket=ticket, impact=Level.HIGH if n % 10 else Level.MEDIUM
                )
                continue
            services.comment_add(
                actor=actor,
                ticket=ticket,
                body=(
                    f"Reply {n}: tried **again** from home.\n\n"
                    "* restarted the client\n* checked [the status page](https://example.com/)\n\n"
                    "```\nping vpn.example.com\n```"
                ),
                is_internal=n % 3 == 0,
            )
        return ticket.key


# --- Query counts, in this process ---------------------------------------------------------


@dataclass
class Counted:
    queries: int
    status: int
    sql: list[tuple[float, str]] = field(default_factory=list)

    @property
    def sql_ms(self) -> float:
        """Time in the database (Django's clock: whole milliseconds per query)."""
        return sum(ms for ms, _ in self.sql)


def count_queries(fixture: Fixture, method: str, url: str, body: Any = None) -> Counted:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(raise_request_exception=False)
    client.cookies[settings.SESSION_COOKIE_NAME] = fixture.session_cookie.partition("=")[2]
    headers = {} if url.startswith("/t/") else {"authorization": f"Bearer {fixture.token}"}
    with CaptureQueriesContext(connection) as captured:
        if method == "POST":
            response = client.post(
                url, data=json.dumps(body), content_type="application/json", headers=headers
            )
        else:
            response = client.get(url, headers=headers)
    sql = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
    return Counted(queries=len(sql), status=response.status_code, sql=sql)


@dataclass
class CpuCost:
    """CPU of this process per request (the app's Python, the driver and the
    test client; not the database server's), median of ``samples``."""

    samples: list[float]
    queries: int
    status: int

    @property
    def ms(self) -> float:
        return statistics.median(self.samples)


def cpu_cost(
    fixture: Fixture,
    method: str,
    url: str,
    body: Callable[[int], dict[str, Any]] | None = None,
    rounds: int = 30,
    warmup: int = 5,
) -> CpuCost:
    """Process CPU per request through the Django test client, in this
    process (so the server's startup, HTTP parsing and the network are not
    in it), with the queries of one more request. The timed requests run
    as in production: no query capture, and templates without the test
    environment's instrumentation (which copies every context it renders)."""
    from django.conf import settings
    from django.db import connection
    from django.template import Template
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, _TestState

    client = Client(raise_request_exception=False)
    client.cookies[settings.SESSION_COOKIE_NAME] = fixture.session_cookie.partition("=")[2]
    headers = {} if url.startswith("/t/") else {"authorization": f"Bearer {fixture.token}"}

    def send(n: int) -> Any:
        if body is not None:
            return client.post(
                url, data=json.dumps(body(n)), content_type="application/json", headers=headers
            )
        return client.get(url, headers=headers)

    with CaptureQueriesContext(connection) as captured:
        response = send(0)
    status, queries = response.status_code, len(captured.captured_queries)
    samples: list[float] = []
    instrumented = Template._render
    saved = getattr(_TestState, "saved_data", None)
    Template._render = saved.template_render if saved else instrumented  # type: ignore[method-assign]
    try:
        for n in range(1, 1 + warmup + rounds):
            started = time.process_time()
            send(n)
            spent = (time.process_time() - started) * 1000
            if n > warmup:
                samples.append(spent)
    finally:
        Template._render = instrumented  # type: ignore[method-assign]
    return CpuCost(samples=samples, queries=queries, status=status)


def explain(fixture: Fixture, label: str, counted: Counted, slowest: int) -> None:
    """Each query of one request with its time, and the plans of the slowest."""
    from django.db import connection

    from servicedesk.rls import tenant_context

    print(f"\n{label}: {counted.queries} queries (status {counted.status})")
    for ms, sql in counted.sql:
        print(f"  {ms:7.2f} ms  {sql[:150]}")
    ranked = sorted(
        (q for q in counted.sql if q[1].lstrip().upper().startswith("SELECT")),
        key=lambda q: q[0],
        reverse=True,
    )
    with tenant_context(fixture.tenant_id), connection.cursor() as cursor:
        for ms, sql in ranked[:slowest]:
            if "set_config" in sql:
                continue
            print(f"\n  EXPLAIN ANALYZE ({ms:.2f} ms in the request):\n  {sql}")
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            for (line,) in cursor.fetchall():
                print(f"    {line}")


# --- The server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int, log: Path) -> Iterator[None]:
    """gunicorn on 127.0.0.1, up until the block ends, however it ends."""
    with log.open("w") as log_file:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "servicedesk.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--chdir",
                str(ROOT),
                "--timeout",
                "120",
                "--graceful-timeout",
                "5",
                # The default socket is one per user: another server would collide.
                "--no-control-socket",
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"gunicorn exited with {server.returncode}; see {log}")
                with contextlib.suppress(OSError):
                    if request(port, "GET", "/healthz", {})[0] == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not answer /healthz in 60 s; see {log}")
                time.sleep(0.2)
            yield
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


# --- HTTP --------------------------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


@dataclass
class Latency:
    samples: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]

    @property
    def max(self) -> float:
        return max(self.samples)


@dataclass(frozen=True)
class Endpoint:
    key: str
    path: str
    headers: dict[str, str]


def interleaved_gets(
    port: int, endpoints: list[Endpoint], requests: int, warmup: int, budget: float
) -> dict[str, Latency | str]:
    """Latency of each GET, one request at a time, the endpoints taking turns
    so that load from elsewhere on the machine falls on all of them alike.
    (gunicorn's sync workers close the connection after each response, as
    they would behind a proxy.) An endpoint that fails is dropped, with why;
    past ``budget`` seconds the run stops with the samples it has."""
    samples: dict[str, list[float]] = {endpoint.key: [] for endpoint in endpoints}
    failed: dict[str, str] = {}
    deadline = time.monotonic() + budget
    for n in range(warmup + requests):
        if n > warmup and time.monotonic() > deadline:
            break
        for endpoint in endpoints:
            if endpoint.key in failed:
                continue
            started = time.perf_counter()
            status, body = request(port, "GET", endpoint.path, endpoint.headers)
            elapsed = (time.perf_counter() - started) * 1000
            if status != 200:
                failed[endpoint.key] = f"GET {endpoint.path}: {status} {body[:200]!r}"
            elif n >= warmup:
                samples[endpoint.key].append(elapsed)
    return {key: failed.get(key) or Latency(found) for key, found in samples.items()}


@dataclass
class Throughput:
    clients: int
    rows: int = 0
    seconds: float = 0.0
    samples: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.rows / self.seconds

    @property
    def latency(self) -> Latency:
        return Latency(self.samples)


def concurrent_posts(
    port: int,
    endpoint: Endpoint,
    make_body: Callable[[int], dict[str, Any]],
    total: int,
    into: Throughput,
) -> None:
    """``total`` POSTs shared by ``into.clients`` threads, added to ``into``."""
    lock = threading.Lock()
    issued = 0
    samples: list[float] = []
    errors: list[str] = []
    headers = {**endpoint.headers, "Content-Type": "application/json"}

    def client() -> None:
        nonlocal issued
        while True:
            with lock:
                if issued >= total or errors:
                    return
                issued += 1
                n = issued
            body = json.dumps(make_body(n)).encode()
            started = time.perf_counter()
            try:
                status, answer = request(port, "POST", endpoint.path, headers, body)
            except OSError as error:
                status, answer = 0, str(error).encode()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status == 201:
                    samples.append(elapsed)
                else:
                    errors.append(f"POST {endpoint.path}: {status} {answer[:200]!r}")

    threads = [threading.Thread(target=client) for _ in range(into.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(errors[0])
    into.rows += len(samples)
    into.seconds += wall
    into.samples += samples


def alternating_posts(
    port: int,
    endpoints: list[tuple[Endpoint, Callable[[int], dict[str, Any]]]],
    total: int,
    clients: int,
    rounds: int,
) -> dict[str, Throughput | str]:
    """Throughput of each POST endpoint, in ``rounds`` turns each, so that
    load from elsewhere on the machine falls on all of them alike."""
    found: dict[str, Throughput | str] = {e.key: Throughput(clients) for e, _ in endpoints}
    for turn in range(rounds):
        share = total // rounds + (1 if turn < total % rounds else 0)
        for endpoint, make_body in endpoints:
            into = found[endpoint.key]
            if isinstance(into, str):
                continue
            try:
                concurrent_posts(port, endpoint, make_body, share, into)
            except RuntimeError as error:
                found[endpoint.key] = str(error)
    return found


# --- The run -----------------------------------------------------------------------------------


def ticket_body(n: int) -> dict[str, Any]:
    return {
        "title": f"Benchmark ticket {n}: the VPN drops every few minutes",
        "description": "Since this morning the VPN drops every few minutes.",
        "impact": 2,
        "urgency": 3,
    }


def bare_body(n: int) -> dict[str, Any]:
    return {
        "title": f"Benchmark row {n}: the VPN drops every few minutes",
        "body": "Since this morning the VPN drops every few minutes.",
    }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--big", type=int, default=200_000, help="tickets of the big tenant")
    parser.add_argument("--requests", type=int, default=200, help="timed GETs per page")
    parser.add_argument("--warmup", type=int, default=20, help="untimed GETs before those")
    parser.add_argument("--read-seconds", type=float, default=300, help="time budget of the reads")
    parser.add_argument("--creates", type=int, default=300, help="POSTs per write run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="turns the write runs take, ours and bare alternating"
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--database", default="", help="default: bench_servicedesk_tickets[_N]")
    parser.add_argument("--synchronous-commit", choices=["on", "off"], default="on")
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/14",
        help="broker for the app's tasks, as in production (this database is flushed at the "
        "end); empty: eager tasks in the request, as in the embedded mode",
    )
    parser.add_argument(
        "--cpu-only", action="store_true", help="only the in-process CPU figures, no server"
    )
    parser.add_argument(
        "--profile",
        default="",
        choices=["", "ticket", "desk", "api", "create"],
        help="print where one of the in-process requests spends its CPU (cProfile)",
    )
    parser.add_argument("--reseed", action="store_true", help="seed again even if seeded")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument(
        "--explain", action="store_true", help="print each read's queries and the slowest plans"
    )
    args = parser.parse_args()
    size = Size(args.tickets, args.tenants, args.big)
    if size.tenants < 2 or not 0 < size.big < size.tickets:
        parser.error("need two tenants or more, and 0 < --big < --tickets")

    name = args.database or (
        "bench_servicedesk_tickets"
        if size.tickets == 1_000_000
        else f"bench_servicedesk_tickets_{size.tickets}"
    )
    base_url, bench_url = database_urls(
        os.environ.get("DATABASE_URL") or DEFAULT_URL, name, "bench/tickets.py"
    )
    print(
        f"ticket benchmark: {size.tickets:,} tickets over {size.tenants} tenants, "
        f"{BIG_SLUG} holding {size.big:,}",
        flush=True,
    )
    seeded_before = prepare_database(base_url, bench_url, size, args.reseed)
    set_synchronous_commit(bench_url, on=args.synchronous_commit == "on")

    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.bare_settings",
        "DATABASE_URL": bench_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": args.redis,
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        # Plain HTTP on loopback: no redirect to https.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "STATIC_ROOT": str(var / "static"),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)

    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    call_command("migrate", verbosity=0)
    # DEBUG off serves static files from the manifest, as in production.
    call_command("collectstatic", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    if seeded_before is None:
        print("seeding …", flush=True)
        seed_seconds = seed(size)
        seeded = f"seeded in {seed_seconds:.1f} s (this run)"
    else:
        seeded = f"reused (its seeding took {seeded_before:.1f} s)"
    print(f"database: {name} on PostgreSQL {server_version}, {seeded}")
    print(f"  synchronous_commit {args.synchronous_commit}", flush=True)

    setup_test_environment()
    # A failing page shows as its status in the table, not as a traceback here.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    # Eager Celery has no broker host to name; its warning says nothing here.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    fixture = make_fixture()
    print(f"  {fixture.shape}")
    desk_url = f"/t/{fixture.slug}/desk/"
    api_url = "/api/v1/tickets/"
    bare_url = "/bench/bare/"
    try:
        counts = {
            "desk": count_queries(fixture, "GET", desk_url),
            "api": count_queries(fixture, "GET", api_url),
            "bare": count_queries(fixture, "GET", bare_url),
            "create": count_queries(fixture, "POST", api_url, ticket_body(0)),
            "insert": count_queries(fixture, "POST", bare_url, bare_body(0)),
        }
        fixture.timeline_keys = {n: timeline_ticket(fixture, n) for n in (10, 50)}
        ticket_urls = {
            n: f"/t/{fixture.slug}/desk/tickets/{key}/" for n, key in fixture.timeline_keys.items()
        }
        cpu = {
            "ticket": cpu_cost(fixture, "GET", ticket_urls[50]),
            "ticket10": cpu_cost(fixture, "GET", ticket_urls[10], rounds=5),
            "desk": cpu_cost(fixture, "GET", desk_url),
            "api": cpu_cost(fixture, "GET", api_url),
            "bare": cpu_cost(fixture, "GET", bare_url),
            "create": cpu_cost(fixture, "POST", api_url, ticket_body),
            "writes": cpu_cost(fixture, "POST", f"{bare_url}writes/", ticket_body),
        }
        report_cpu(fixture, cpu)
        if args.profile:
            profile_url = {"ticket": ticket_urls[50], "desk": desk_url}.get(args.profile, api_url)
            profile(fixture, profile_url, ticket_body if args.profile == "create" else None)
        if args.explain:
            page = count_queries(fixture, "GET", ticket_urls[50])
            explain(fixture, f"GET {ticket_urls[50]}", page, slowest=3)
            explain(fixture, f"GET {desk_url}", counts["desk"], slowest=3)
        if args.cpu_only:
            return
        if args.explain:
            explain(fixture, f"GET {api_url}", counts["api"], slowest=2)
            explain(fixture, f"POST {api_url}", counts["create"], slowest=0)
            print()

        port = args.port or free_port()
        log = var / "gunicorn.log"
        celery_mode = (
            f"tasks queued on Redis ({args.redis}, no worker: mail waits there)"
            if args.redis
            else "Celery eager (no Redis)"
        )
        print(
            f"server: gunicorn, {args.workers} sync workers on 127.0.0.1:{port}, DEBUG off, "
            f"{celery_mode}, dummy mail backend; log {log.relative_to(ROOT)}",
            flush=True,
        )
        desk = Endpoint("desk", desk_url, {"Cookie": fixture.session_cookie})
        api = Endpoint("api", api_url, {"Authorization": f"Bearer {fixture.token}"})
        bare = Endpoint("bare", bare_url, {})
        writes: dict[tuple[str, int], Throughput | str] = {}
        load_before = os.getloadavg()[0]
        with gunicorn(env, port, args.workers, log):
            reads = interleaved_gets(
                port, [desk, api, bare], args.requests, args.warmup, args.read_seconds
            )
            for clients in (1, 8):
                found = alternating_posts(
                    port,
                    [
                        (Endpoint("create", api_url, api.headers), ticket_body),
                        (Endpoint("insert", bare_url, {}), bare_body),
                    ],
                    args.creates,
                    clients,
                    args.rounds,
                )
                for key, result in found.items():
                    writes[key, clients] = result
        # Other work on the machine shows here; the turns spread it over ours and bare alike.
        print(
            f"machine: {os.cpu_count()} cores; 1-minute load average {load_before:.2f} "
            f"before the server started, {os.getloadavg()[0]:.2f} at the end"
        )
    finally:
        clean_up(fixture)
        if args.redis:
            # The queued deliveries of the created tickets; no worker ran them.
            import redis

            redis.Redis.from_url(args.redis).flushdb()

    report(args, desk_url, api_url, bare_url, counts, reads, writes)
    if args.drop:
        connection.close()
        drop_database(base_url, bench_url)
        print(f"dropped {name}")


TARGET_TICKET_CPU_MS = 25.0
TARGET_TICKET_QUERIES = 12
TARGET_QUEUE_CPU_MS = 20.0
TARGET_LIST_RATIO = 2.0
TARGET_WRITES_RATIO = 3.0


def report_cpu(fixture: Fixture, cpu: dict[str, CpuCost]) -> None:
    print(
        "\napp CPU per request, in-process (Django test client; median; the queries of one "
        "request):"
    )
    labels = {
        "ticket": "ticket page, 50-entry timeline",
        "ticket10": "ticket page, 10-entry timeline",
        "desk": "desk queue, 50 rows",
        "api": "API list GET /api/v1/tickets/",
        "bare": "bare list GET /bench/bare/",
        "create": "API create POST /api/v1/tickets/",
        "writes": "same-writes floor POST /bench/bare/writes/",
    }
    print(f"  {'':<44} {'CPU ms':>7} {'queries':>8} {'status':>7}")
    for key, label in labels.items():
        found = cpu[key]
        print(f"  {label:<44} {found.ms:7.1f} {found.queries:8d} {found.status:7d}")
    ticket, ticket10 = cpu["ticket"], cpu["ticket10"]
    list_ratio = cpu["api"].ms / cpu["bare"].ms
    writes_ratio = cpu["create"].ms / cpu["writes"].ms
    rows = [
        (
            f"ticket page ≤ {TARGET_TICKET_CPU_MS:.0f} ms, ≤ {TARGET_TICKET_QUERIES} queries, "
            "constant",
            f"{ticket.ms:.1f} ms, {ticket.queries} (10: {ticket10.queries}) queries",
            ticket.ms <= TARGET_TICKET_CPU_MS
            and ticket.queries <= TARGET_TICKET_QUERIES
            and ticket.queries == ticket10.queries,
        ),
        (
            f"desk queue ≤ {TARGET_QUEUE_CPU_MS:.0f} ms app CPU, 50 rows",
            f"{cpu['desk'].ms:.1f} ms",
            cpu["desk"].ms <= TARGET_QUEUE_CPU_MS,
        ),
        (
            f"API list ≤ {TARGET_LIST_RATIO:.0f}× bare list (CPU)",
            f"{list_ratio:.2f}×",
            list_ratio <= TARGET_LIST_RATIO,
        ),
        (
            f"API create ≤ {TARGET_WRITES_RATIO:.0f}× same-writes floor (CPU)",
            f"{writes_ratio:.2f}×",
            writes_ratio <= TARGET_WRITES_RATIO,
        ),
    ]
    print("  targets:")
    for goal, got, ok in rows:
        print(f"    {goal:<52} {got:>30}   {verdict(ok)}")
    sys.stdout.flush()


def profile(
    fixture: Fixture, url: str, body: Callable[[int], dict[str, Any]] | None = None
) -> None:
    """cProfile of 20 requests after a warm-up: the 40 costliest functions
    by their own and their callees' time."""
    import cProfile
    import pstats

    cpu_cost(fixture, "POST" if body else "GET", url, body, rounds=0, warmup=3)
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    cpu_cost(fixture, "POST" if body else "GET", url, body, rounds=20, warmup=0)
    profiler.disable()
    print(f"\nprofile of 20 requests to {url}:")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(70)
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)


def report(
    args: argparse.Namespace,
    desk_url: str,
    api_url: str,
    bare_url: str,
    counts: dict[str, Counted],
    reads: dict[str, Latency | str],
    writes: dict[tuple[str, int], Throughput | str],
) -> None:
    bare_read = reads["bare"]
    print(
        f"\nreads: {args.requests} GETs each after {args.warmup} warm-up, one at a time, the three "
        "taking turns; queries and their time in the database from one request in-process"
    )
    print(
        f"  {'':<38} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8} {'sql ms':>7}"
        f"   {'p50/bare':>8} {'p95/bare':>8}"
    )
    labels = {
        "desk": f"desk queue  {desk_url}",
        "api": f"API list    GET {api_url}",
        "bare": f"bare list   GET {bare_url}",
    }
    for key, label in labels.items():
        found = reads[key]
        if isinstance(found, str):
            print(f"  {label:<38} FAILED: {found[:200]}")
            continue
        ratios = ""
        if key != "bare" and isinstance(bare_read, Latency):
            ratios = f"   {found.p50 / bare_read.p50:7.1f}x {found.p95 / bare_read.p95:7.1f}x"
        print(
            f"  {label:<38} {found.p50:8.1f} {found.p95:8.1f} {found.max:8.1f} "
            f"{counts[key].queries:8d} {counts[key].sql_ms:7.0f}{ratios}"
        )

    timed = [len(found.samples) for found in reads.values() if isinstance(found, Latency)]
    if timed and min(timed) < args.requests:
        print(f"  (stopped after {min(timed)} rounds: --read-seconds {args.read_seconds:.0f})")
    print(
        f"\nwrites: {args.creates} POSTs per line, spread over the clients, in {args.rounds} turns "
        "alternating with the bare insert"
    )
    print(
        f"  {'':<38} {'clients':>7} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}"
        f" {'sql ms':>7}   {'vs bare':>7}"
    )
    for clients in (1, 8):
        bare_write = writes["insert", clients]
        for key, label in (
            ("create", f"API create  POST {api_url}"),
            ("insert", f"bare insert POST {bare_url}"),
        ):
            result = writes[key, clients]
            if isinstance(result, str):
                print(f"  {label:<38} {clients:7d} FAILED: {result[:200]}")
                continue
            versus = ""
            if key == "create" and isinstance(bare_write, Throughput):
                versus = f"   {result.per_second / bare_write.per_second:7.1%}"
            print(
                f"  {label:<38} {clients:7d} {result.per_second:8.1f} {result.latency.p50:8.1f} "
                f"{result.latency.p95:8.1f} {counts[key].queries:8d} "
                f"{counts[key].sql_ms:7.0f}{versus}"
            )

    print("\ntargets:")
    for key, what in (("desk", "desk queue"), ("api", "API list")):
        found = reads[key]
        goal = f"{what}: p95 ≤ {TARGET_P95_MS:.0f} ms, ≤ {TARGET_QUERIES} queries"
        if isinstance(found, str):
            print(f"  {goal:<52} {'failed':>24}   MISS")
            continue
        ok = found.p95 <= TARGET_P95_MS and counts[key].queries <= TARGET_QUERIES
        got = f"{found.p95:.1f} ms, {counts[key].queries} queries"
        print(f"  {goal:<52} {got:>24}   {verdict(ok)}")
    for clients in (1, 8):
        goal = f"API create ≥ {TARGET_CREATE_RATIO:.0%} of bare insert, {clients} client(s)"
        ours, bare = writes["create", clients], writes["insert", clients]
        if isinstance(ours, str) or isinstance(bare, str):
            print(f"  {goal:<52} {'failed':>24}   MISS")
            continue
        share = ours.per_second / bare.per_second
        got = f"{ours.per_second:.0f}/{bare.per_second:.0f} per s = {share:.0%}"
        print(f"  {goal:<52} {got:>24}   {verdict(share >= TARGET_CREATE_RATIO)}")


if __name__ == "__main__":
    # A SIGTERM unwinds like Ctrl-C, so the server is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    main()
