"""What the SLA sweeper costs at size: one ``clocks_sweep`` call that finds
1,000 clocks due among 100,000 and then 1,000,000 running ones, and the
escalation runs it queues.

Seeds, with set-based SQL on PostgreSQL (every index, constraint and
row-level policy in place), open tickets spread over ``--tenants`` tenants
(50), each with a running resolution clock due weeks ahead (most also with a
met first-response clock, as a desk has) and its "created" event. Before
each run it makes exactly ``--due`` clocks due (1,000) -- half of them
reaching their warning, half their breach, on tickets picked at random among
all -- and then times:

* one ``slo.services.clocks_sweep(now=…)`` call: wall time, queries
  (Django's ``CaptureQueriesContext``), the time those queries took (the
  database and the round trips) and the rest (Python);
* ``slo.escalations.escalations_run_pending(now=…)``, which carries out the
  runs the sweep queued: the policies of the first ``--escalating``
  tenants (5) escalate (a warning tells the team lead, a breach a named
  lead), so about 1,000 × 5 / 50 = 100 runs per sweep.

Both sizes are measured in one database, topped up from the first size to
the second, with ``VACUUM ANALYZE`` after each seed, and compared with the
targets: a sweep of 1,000 due clocks within 200 ms, at 1,000,000 clocks
within 1.5× of its time at 100,000. The first run of each size warms up and
is left out of the figures.

The database (``servicedesk_bench_sla`` next to the one the URL names) is
made afresh on each run and dropped at the end unless ``--keep``.
Notification e-mails go to Redis (``--redis``, flushed at the end) as in
production; ``--redis ''`` runs them eagerly, as in the embedded mode.

    bash scripts/test-services.sh
    DATABASE_URL=postgres://servicedesk:servicedesk@127.0.0.1:5432/servicedesk \\
        .venv/bin/python bench/sla_sweep.py
    .venv/bin/python bench/sla_sweep.py --sizes 20000,100000 --runs 5   # a quick check
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import secrets
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# bench/tickets.py is named like the tickets app: keep this folder off the import path.
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
DEFAULT_DATABASE = "servicedesk_bench_sla"
REQUESTERS_PER_TENANT = 20
# Clocks not made due fall due between 4 and 30 days from the seed: none
# reaches its warning while the benchmark runs.
GOAL = timedelta(days=30)
WARNING_PERCENT = 80
FIRST_RESPONSE_MET = 0.75  # share of tickets whose first response clock is there, met
MIN_RUNS = 3  # timed runs per size, whatever the time budget
TARGET_MS = 200.0
TARGET_RATIO = 1.5


# --- The database ------------------------------------------------------------------------


def recreate_database(base_url: str, bench_url: str) -> None:
    drop_database(base_url, bench_url)
    admin = pg_connect(base_url)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{database_name(bench_url)}"')
    finally:
        admin.close()
    set_synchronous_commit(bench_url, on=True)


# --- Seeding ---------------------------------------------------------------------------------


@dataclass
class Desk:
    """Per tenant (in order): the ids the ticket rows point at."""

    tenant_ids: list[int] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)
    agent_ids: list[int] = field(default_factory=list)
    requester_ids: list[int] = field(default_factory=list)  # the first of each tenant's
    policy_ids: list[int] = field(default_factory=list)
    escalating: int = 0


def seed_tenants(tenants: int, escalating: int, now: datetime) -> Desk:
    """Tenants, their people, one team with a lead, one 24×7 policy each;
    escalations on the policies of the first ``escalating`` tenants."""
    from django.db import transaction

    from servicedesk.models import Membership, Role, Team, Tenant, User
    from slo.models import Escalation, EscalationAction, Policy, Trigger

    desk = Desk(escalating=escalating)
    with transaction.atomic():
        rows = Tenant.objects.bulk_create(
            [
                Tenant(slug=f"bench-sla-{n:02d}", name=f"Bench SLA {n:02d}", timezone="UTC")
                for n in range(tenants)
            ]
        )
        for tenant in rows:
            staff = User.objects.bulk_create(
                [
                    User(
                        email=f"{local}@{tenant.slug}.bench.test",
                        full_name=f"{local.title()} {tenant.name}",
                        password="!bench",  # noqa: S106 - no password: nobody signs in
                    )
                    for local in ("admin", "lead", "agent")
                ]
            )
            requesters = User.objects.bulk_create(
                [
                    User(
                        email=f"user{n}@{tenant.slug}.bench.test",
                        full_name=f"Requester {n}",
                        password="!bench",  # noqa: S106
                    )
                    for n in range(REQUESTERS_PER_TENANT)
                ]
            )
            admin, lead, agent = staff
            Membership.objects.bulk_create(
                [
                    Membership(tenant=tenant, user=admin, role=Role.ADMIN),
                    Membership(tenant=tenant, user=lead, role=Role.LEAD),
                    Membership(tenant=tenant, user=agent, role=Role.AGENT),
                    *(Membership(tenant=tenant, user=u, role=Role.REQUESTER) for u in requesters),
                ]
            )
            team = Team.objects.for_tenant(tenant).create(
                tenant=tenant, name="Service desk", slug="service-desk", lead=lead
            )
            team.members.add(lead, agent)
            policy = Policy.objects.for_tenant(tenant).create(
                tenant=tenant,
                name="Around the clock",
                position=1,
                first_response_minutes=60,
                resolution_minutes=int(GOAL / timedelta(minutes=1)),
                warning_percent=WARNING_PERCENT,
            )
            if len(desk.tenant_ids) < escalating:
                Escalation.objects.for_tenant(tenant).create(
                    tenant=tenant,
                    policy=policy,
                    trigger=Trigger.WARNING,
                    action=EscalationAction.NOTIFY_TEAM_LEAD,
                )
                breach = Escalation.objects.for_tenant(tenant).create(
                    tenant=tenant,
                    policy=policy,
                    trigger=Trigger.BREACH,
                    action=EscalationAction.NOTIFY_USERS,
                )
                breach.users.add(lead)
            desk.tenant_ids.append(tenant.pk)
            desk.team_ids.append(team.pk)
            desk.agent_ids.append(agent.pk)
            desk.requester_ids.append(requesters[0].pk)
            desk.policy_ids.append(policy.pk)
    return desk


# Tenant of ticket g: (g - 1) % tenants; its number within the tenant follows.
TICKETS_SQL = """
WITH desk AS (
    SELECT * FROM unnest(%(tenants)s::bigint[], %(teams)s::bigint[], %(agents)s::bigint[],
                         %(requesters)s::bigint[])
        WITH ORDINALITY AS d(tenant_id, team_id, agent_id, requester_id, n)
), drawn AS (
    SELECT g, %(now)s::timestamptz - make_interval(secs => random() * 20 * 86400) AS created_at
    FROM generate_series(%(first)s, %(last)s) AS g
)
INSERT INTO tickets_ticket (
    tenant_id, kind, number, title, description, status, impact, urgency, priority,
    priority_override_reason, requester_id, assignee_id, team_id, category_id,
    is_confidential, source, created_at, updated_at, first_response_at, resolved_at,
    closed_at, resolution_code, resolution_notes, reopen_count, thread_id
)
SELECT d.tenant_id, 'incident', (g - 1) / %(n_tenants)s + 1,
       'Benchmark incident ' || g, 'Opened by the SLA benchmark.',
       CASE WHEN g %% 4 = 0 THEN 'new' ELSE 'in_progress' END, 2, 2, 3, '',
       d.requester_id, CASE WHEN g %% 4 = 0 THEN NULL ELSE d.agent_id END, d.team_id, NULL,
       false, 'portal', created_at, created_at,
       CASE WHEN g %% 4 = 0 THEN NULL ELSE created_at + interval '20 minutes' END,
       NULL, NULL, '', '', 0, ''
FROM drawn JOIN desk d ON d.n = (g - 1) %% %(n_tenants)s + 1
ORDER BY g
"""

EVENTS_SQL = """
INSERT INTO tickets_ticketevent (
    tenant_id, ticket_id, actor_id, actor_kind, actor_name, action, field, old_value,
    new_value, note, created_at
)
SELECT tenant_id, id, requester_id, 'user', '', 'created', '', '', 'INC-' || number, '',
       created_at
FROM tickets_ticket WHERE id > %(after)s ORDER BY id
"""

# Every ticket's resolution clock runs and looks next at its warning, 4 to
# 30 days ahead; three in four tickets also have their first response met.
CLOCKS_SQL = """
WITH policy AS (
    SELECT * FROM unnest(%(tenants)s::bigint[], %(policies)s::bigint[])
        AS p(tenant_id, policy_id)
)
INSERT INTO slo_clock (
    tenant_id, ticket_id, target, policy_id, state, cycle, goal, started_at, used,
    running_since, paused_at, paused_total, warn_at, due_at, warned_at, breached_at,
    stopped_at, event_id, warning_handled, breach_handled, sweep_at
)
SELECT t.tenant_id, t.id, target.name, p.policy_id,
       CASE target.name WHEN 'resolution' THEN 'running' ELSE 'met' END,
       1,
       CASE target.name WHEN 'resolution' THEN %(goal)s ELSE interval '1 hour' END,
       t.created_at,
       CASE target.name WHEN 'resolution' THEN interval '0' ELSE interval '20 minutes' END,
       CASE target.name WHEN 'resolution' THEN t.created_at END,
       NULL, interval '0',
       t.created_at + CASE target.name WHEN 'resolution' THEN %(warning)s
                                       ELSE interval '48 minutes' END,
       t.created_at + CASE target.name WHEN 'resolution' THEN %(goal)s
                                       ELSE interval '1 hour' END,
       NULL, NULL,
       CASE target.name WHEN 'resolution' THEN NULL ELSE t.created_at + interval '20 minutes' END,
       0, false, false,
       CASE target.name WHEN 'resolution' THEN t.created_at + %(warning)s END
FROM tickets_ticket t
JOIN policy p ON p.tenant_id = t.tenant_id
CROSS JOIN (VALUES ('first_response'), ('resolution')) AS target(name)
WHERE t.id > %(after)s
  AND (target.name = 'resolution' OR t.first_response_at IS NOT NULL AND random() < %(met)s)
ORDER BY t.id, target.name
"""

COUNTERS_SQL = """
INSERT INTO tickets_ticketcounter (tenant_id, kind, last_number)
SELECT tenant_id, kind, max(number) FROM tickets_ticket GROUP BY tenant_id, kind
ON CONFLICT (tenant_id, kind) DO UPDATE SET last_number = excluded.last_number
"""


def top_up(desk: Desk, tickets: int, seeded: int, now: datetime) -> float:
    """Seed tickets ``seeded + 1`` to ``tickets`` with their clocks and
    events; the seconds it took, ANALYZE included."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM tickets_ticket")
        after = cursor.fetchone()[0]
        common: dict[str, Any] = {
            "tenants": desk.tenant_ids,
            "n_tenants": len(desk.tenant_ids),
            "now": now,
        }
        cursor.execute(
            TICKETS_SQL,
            {
                **common,
                "teams": desk.team_ids,
                "agents": desk.agent_ids,
                "requesters": desk.requester_ids,
                "first": seeded + 1,
                "last": tickets,
            },
        )
        cursor.execute(EVENTS_SQL, {"after": after})
        clocks: dict[str, Any] = {
            **common,
            "policies": desk.policy_ids,
            "after": after,
            "goal": GOAL,
            "warning": GOAL * WARNING_PERCENT / 100,
            "met": FIRST_RESPONSE_MET,
        }
        cursor.execute(CLOCKS_SQL, clocks)
        cursor.execute(COUNTERS_SQL)
        for table in (
            "tickets_ticket",
            "tickets_ticketevent",
            "slo_clock",
            "tickets_ticketcounter",
        ):
            # As autovacuum would leave them: statistics and the visibility map.
            cursor.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - started


# The chosen clocks reach their warning (odd picks) or, already warned,
# their breach (even picks) within the last 50 minutes: sweep_at as the
# services would have set it.
MAKE_DUE_SQL = """
WITH picked AS (
    SELECT id, row_number() OVER () AS k, random() AS r
    FROM unnest(%(ids)s::bigint[]) AS id
)
UPDATE slo_clock c SET
    state = 'running',
    warn_at = CASE WHEN k %% 2 = 1 THEN moment ELSE moment - %(goal)s + %(warning)s END,
    due_at = CASE WHEN k %% 2 = 1 THEN moment - %(warning)s + %(goal)s ELSE moment END,
    started_at = CASE WHEN k %% 2 = 1 THEN moment - %(warning)s ELSE moment - %(goal)s END,
    running_since = CASE WHEN k %% 2 = 1 THEN moment - %(warning)s ELSE moment - %(goal)s END,
    warned_at = CASE WHEN k %% 2 = 1 THEN NULL ELSE moment - %(goal)s + %(warning)s END,
    warning_handled = k %% 2 = 0,
    breached_at = NULL,
    breach_handled = false,
    sweep_at = moment
FROM (
    SELECT id, k, %(now)s::timestamptz - interval '1 second' - make_interval(secs => r * 3000)
        AS moment
    FROM picked
) AS due
WHERE c.id = due.id
"""


def make_due(count: int, now: datetime, used: set[int]) -> None:
    """Make exactly ``count`` running resolution clocks due at ``now``,
    none of them picked before (their escalation runs are unique per cycle)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM slo_clock TABLESAMPLE SYSTEM (5) "
            "WHERE target = 'resolution' AND sweep_at > %s",
            [now + timedelta(days=1)],
        )
        found = [row[0] for row in cursor.fetchall() if row[0] not in used]
        if len(found) < count:
            cursor.execute(
                "SELECT id FROM slo_clock WHERE target = 'resolution' AND sweep_at > %s",
                [now + timedelta(days=1)],
            )
            found = [row[0] for row in cursor.fetchall() if row[0] not in used]
        picked = secrets.SystemRandom().sample(found, count)
        used.update(picked)
        params: dict[str, Any] = {
            "ids": picked,
            "now": now,
            "goal": GOAL,
            "warning": GOAL * WARNING_PERCENT / 100,
        }
        cursor.execute(MAKE_DUE_SQL, params)
        cursor.execute("SELECT count(*) FROM slo_clock WHERE sweep_at <= %s", [now])
        due = cursor.fetchone()[0]
    if due != count:
        raise RuntimeError(f"{due} clocks due instead of {count}")


# --- Measuring -------------------------------------------------------------------------------


@dataclass
class Sample:
    ms: float
    queries: int
    sql_ms: float
    statements: list[tuple[float, str]]
    count: int  # clocks swept, or escalation runs carried out


@dataclass
class SizeResult:
    tickets: int
    clocks: int
    seed_seconds: float
    sweeps: list[Sample] = field(default_factory=list)
    escalations: list[Sample] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    profile: str = ""


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def timed(call: Any) -> tuple[Any, Sample]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    gc.collect()
    # The log keeps the last 9,000 queries; a full one would capture nothing.
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = call()
        elapsed = (time.perf_counter() - started) * 1000
    statements = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
    return result, Sample(
        ms=elapsed,
        queries=len(statements),
        sql_ms=sum(ms for ms, _ in statements),
        statements=statements,
        count=0,
    )


def explain_sweep(now: datetime, batch: int) -> list[str]:
    """EXPLAIN ANALYZE of the sweep's read, rolled back (it locks rows)."""
    from django.db import transaction

    from slo.models import Clock

    with transaction.atomic():
        plan = (
            Clock.objects.unscoped()
            .select_for_update(skip_locked=True)
            .filter(sweep_at__lte=now)
            .order_by("sweep_at")[:batch]
            .explain(analyze=True, buffers=True)
        )
        transaction.set_rollback(True)
    return plan.splitlines()


ESCALATION_LIMIT = 200  # runs per escalations_run_pending call, as the beat task does


def run_escalations(now: datetime) -> int:
    """Every pending escalation run, in the beat task's calls of 200."""
    from slo import escalations

    done = 0
    while True:
        batch = escalations.escalations_run_pending(now=now, limit=ESCALATION_LIMIT)
        done += batch
        if batch < ESCALATION_LIMIT:
            return done


def measure(
    result: SizeResult, due: int, runs: int, used: set[int], profile: bool, deadline: float
) -> None:
    from django.utils import timezone

    from slo import services

    for run in range(runs + 1):  # the first warms up
        if run > MIN_RUNS and time.monotonic() > deadline:
            print(f"    time budget spent: {run - 1} timed runs", flush=True)
            break
        now = timezone.now()
        make_due(due, now, used)
        if run == 0:
            result.plan = explain_sweep(now, due)
        swept, sweep = timed(lambda now=now: services.clocks_sweep(now=now, batch=due))
        if swept.clocks != due or swept.warnings != due // 2 + due % 2:
            raise RuntimeError(f"the sweep found {swept} instead of {due} due clocks")
        sweep.count = swept.clocks
        done, escalated = timed(lambda now=now: run_escalations(now))
        escalated.count = done
        if swept.escalations != done:
            raise RuntimeError(f"{swept.escalations} escalation runs queued, {done} carried out")
        if run == 0:
            continue
        result.sweeps.append(sweep)
        result.escalations.append(escalated)
        print(
            f"    run {run}: sweep {sweep.ms:6.1f} ms ({sweep.queries} queries, "
            f"{sweep.sql_ms:5.1f} ms SQL); {done} escalation runs {escalated.ms:7.1f} ms",
            flush=True,
        )
    if profile:
        now = timezone.now()
        make_due(due, now, used)
        profiler = cProfile.Profile()
        profiler.enable()
        services.clocks_sweep(now=now, batch=due)
        profiler.disable()
        run_escalations(now)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(
            r"slo/|bulk_update|bulk_create|query.py:.*(__iter__|_fetch_all)|execute\b", 18
        )
        result.profile = out.getvalue()


# --- The report --------------------------------------------------------------------------


def statement_kind(sql: str) -> str:
    words = sql.split()
    head = words[0].upper() if words else "?"
    for table in ("slo_clock", "tickets_ticketevent", "slo_escalationrun", "slo_escalation"):
        if f'"{table}"' in sql.split(" WHERE ")[0]:
            return f"{head} {table}"
    return head


def breakdown(samples: list[Sample]) -> list[str]:
    """Median time per kind of statement over the runs."""
    kinds: dict[str, list[float]] = {}
    for sample in samples:
        per_run: dict[str, float] = {}
        for ms, sql in sample.statements:
            key = statement_kind(sql)
            per_run[key] = per_run.get(key, 0.0) + ms
        for key, ms in per_run.items():
            kinds.setdefault(key, []).append(ms)
    lines = [
        f"      {key:<34} {statistics.median(values):7.1f} ms"
        for key, values in sorted(kinds.items(), key=lambda item: -statistics.median(item[1]))
    ]
    python = statistics.median(s.ms - s.sql_ms for s in samples)
    lines.append(f"      {'Python (the rest)':<34} {python:7.1f} ms")
    return lines


def report(results: list[SizeResult], due: int, explain: bool) -> None:
    print(f"\nsweep of {due:,} due clocks (ONE clocks_sweep call), after one warm-up run:")
    print(
        f"  {'running clocks':>16} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
        f"{'queries':>8} {'SQL p50':>8} {'Python p50':>11}"
    )
    for result in results:
        times = [s.ms for s in result.sweeps]
        print(
            f"  {result.clocks:>16,} {len(times):>5} {statistics.median(times):8.1f} "
            f"{percentile(times, 0.95):8.1f} {max(times):8.1f} "
            f"{statistics.median(s.queries for s in result.sweeps):8.0f} "
            f"{statistics.median(s.sql_ms for s in result.sweeps):8.1f} "
            f"{statistics.median(s.ms - s.sql_ms for s in result.sweeps):11.1f}"
        )
    for result in results:
        print(f"  at {result.tickets:,} tickets, median per statement kind:")
        for line in breakdown(result.sweeps):
            print(line)
        top = [line for line in result.plan if line.strip()]
        shown = top if explain else [top[0], *[line for line in top if "Index" in line][:1]]
        print("    the sweep's read, EXPLAIN ANALYZE:")
        for line in shown:
            print(f"      {line}")
        print(f"      {next((line for line in top if 'Execution Time' in line), '')}")
        if result.profile:
            print("    cProfile of one more sweep (cumulative; the sweep's own calls):")
            for line in result.profile.splitlines():
                if line.strip():
                    print(f"      {line}")

    seeds = "; ".join(f"{r.tickets:,} tickets in {r.seed_seconds:.1f} s" for r in results)
    print(f"  seeded with set-based SQL and VACUUM ANALYZE, topped up: {seeds}")

    print("\nescalation runs the sweep queued (escalations_run_pending, one call per sweep):")
    print(
        f"  {'running clocks':>16} {'runs/sweep':>10} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
        f"{'ms/run':>7} {'queries/run':>12}"
    )
    for result in results:
        samples = result.escalations
        count = statistics.median(s.count for s in samples)
        times = [s.ms for s in samples]
        print(
            f"  {result.clocks:>16,} {count:10.0f} {statistics.median(times):8.1f} "
            f"{percentile(times, 0.95):8.1f} {max(times):8.1f} "
            f"{statistics.median(s.ms / max(s.count, 1) for s in samples):7.2f} "
            f"{statistics.median(s.queries / max(s.count, 1) for s in samples):12.1f}"
        )

    print("\ntargets:")
    for result in results:
        p95 = percentile([s.ms for s in result.sweeps], 0.95)
        goal = f"sweep of {due:,} due among {result.clocks:,} clocks: p95 ≤ {TARGET_MS:.0f} ms"
        verdict = "PASS" if p95 <= TARGET_MS else "MISS"
        print(f"  {goal:<66} {p95:8.1f} ms   {verdict}")
    if len(results) >= 2:
        small, big = results[0], results[-1]
        p50 = statistics.median(s.ms for s in big.sweeps) / statistics.median(
            s.ms for s in small.sweeps
        )
        p95 = percentile([s.ms for s in big.sweeps], 0.95) / percentile(
            [s.ms for s in small.sweeps], 0.95
        )
        goal = f"{big.clocks:,} vs {small.clocks:,} clocks: ≤ {TARGET_RATIO}× (p50; p95)"
        verdict = "PASS" if max(p50, p95) <= TARGET_RATIO else "MISS"
        print(f"  {goal:<66} {p50:5.2f}×; {p95:4.2f}×   {verdict}")


# --- The run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_URL,
        help="a PostgreSQL server's URL (default: DATABASE_URL); the bench database sits next "
        "to the one it names",
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument(
        "--sizes", default="100000,1000000", help="open tickets (one running clock each), rising"
    )
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--escalating", type=int, default=5, help="tenants whose policy escalates")
    parser.add_argument("--due", type=int, default=1000, help="clocks due per sweep")
    parser.add_argument("--runs", type=int, default=10, help="timed sweeps per size")
    parser.add_argument(
        "--budget",
        type=float,
        default=540,
        help=f"seconds after which no new run starts (at least {MIN_RUNS} per size)",
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/13",
        help="broker for the notification e-mails, as in production (this database is "
        "flushed at the end); empty: eager tasks, as in the embedded mode",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one more sweep per size")
    parser.add_argument("--explain", action="store_true", help="print the whole sweep plan")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    args = parser.parse_args()
    sizes = [int(size.replace("_", "")) for size in args.sizes.split(",")]
    if sizes != sorted(sizes) or sizes[0] < args.due * 2:
        parser.error("--sizes rise, and the smallest holds at least twice --due tickets")
    if not 0 <= args.escalating <= args.tenants:
        parser.error("--escalating is at most --tenants")

    started = time.monotonic()
    deadline = started + args.budget
    base_url, bench_url = database_urls(args.database_url, args.database, "bench/sla_sweep.py")
    recreate_database(base_url, bench_url)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
            "DATABASE_URL": bench_url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "REDIS_URL": args.redis,
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "LOG_LEVEL": "WARNING",
        }
    )

    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    load_before = os.getloadavg()
    results: list[SizeResult] = []
    try:
        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        print(
            f"SLA sweep benchmark on PostgreSQL {version}, database {args.database}; "
            f"{args.tenants} tenants, {args.escalating} of them escalating; "
            f"{args.due:,} clocks due per sweep",
            flush=True,
        )
        now = timezone.now()
        desk = seed_tenants(args.tenants, args.escalating, now)
        seeded = 0
        used: set[int] = set()
        for size in sizes:
            print(f"  seeding {size:,} open tickets …", flush=True)
            seconds = top_up(desk, size, seeded, now)
            seeded = size
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*), count(running_since) FROM slo_clock")
                clocks, running = cursor.fetchone()
            print(
                f"  seeded in {seconds:.1f} s: {clocks:,} clocks, {running:,} of them counting",
                flush=True,
            )
            result = SizeResult(tickets=size, clocks=running, seed_seconds=seconds)
            measure(result, args.due, args.runs, used, args.profile, deadline)
            results.append(result)
        load_after = os.getloadavg()
        report(results, args.due, args.explain)
        print(
            f"\nmachine: {os.cpu_count()} cores; load average (1, 5, 15 min) "
            f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} at the start, "
            f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} at the end; "
            f"whole run {time.monotonic() - started:.0f} s"
        )
    finally:
        connection.close()
        if args.redis:
            import redis

            redis.Redis.from_url(args.redis).flushdb()
        if args.keep:
            print(f"kept {args.database}")
        else:
            drop_database(base_url, bench_url)


if __name__ == "__main__":
    main()
