"""Faults survived with nothing lost: the broker down, a worker killed, the
database restarted and the SLA sweeper killed, each under traffic, each
checking its own outcome (PASS/FAIL with the figures).

Runs on the production stack in miniature (``bench/stack.py``), all of its
own on 127.0.0.1: a PostgreSQL 15 cluster and a Redis (private ports and
data, so they may be stopped), gunicorn (2 sync workers, DEBUG off) and one
Celery worker (prefork, 2 children) delivering the mail to the file backend,
whose files are counted per Message-ID. The seed: ``bench/tickets.py``'s
tickets (an agent with an API token) and ``bench/sla_sweep.py``'s tenants,
whose policies escalate (a warning mails the team lead, a breach a named
lead) with a running clock per ticket.

* ``--redis-down``: tickets created through the API while Redis is stopped
  for ``--outage`` seconds (it comes back empty, as a replaced broker does).
  Every 2xx must be a stored ticket, every other answer must have stored
  nothing, and once Redis is back and the outbox sweeper has run, each
  ticket's mail must have gone out exactly once.
* ``--worker-killed``: clocks made due, the sweep task queued and replies
  posted (mail owed), the worker SIGKILLed (with its pool) at a random
  moment while escalations and mail are being carried out, then started
  again and the sweepers run: every escalation run done once (one audit
  entry, one mail), every mail sent once, nothing stuck.
* ``--postgres-restart``: ``pg_ctl restart -m fast`` while reads and replies
  go on: errors only in a short window (its length reported), none after
  30 s, no restart of the app; each reply answered 2xx is stored and each
  one answered otherwise is not, and its mail goes out once.
* ``--sweeper-killed``: ``--kills`` rounds of clocks made due, the sweep run
  in the worker and the worker SIGKILLed at a random point of it (the first
  round, unkilled, times it); after each, the worker again and the next
  tick's sweep: each warning and breach marked once and escalated exactly
  once, checked every round.

With no flag, all four run. The outbox sweeper (the beat task
``tickets.deliver_owed_notifications``) is run in this process as it would
find the outbox three minutes later, rather than waiting for beat.

    .venv/bin/python bench/faults.py                   # all four, about 6 minutes
    .venv/bin/python bench/faults.py --redis-down --outage 20
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# bench/tickets.py is named like the tickets app: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

from bench import stack  # noqa: E402

API = "/api/v1/tickets/"
SLA_TENANTS = 2
SLA_TICKETS = 4000


@dataclass
class Outcome:
    at: float  # seconds since the traffic started
    what: str
    status: int
    marker: str
    ms: float
    answer: bytes = b""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Verdict:
    name: str
    checks: list[tuple[str, bool]] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    def check(self, what: str, ok: bool) -> None:
        self.checks.append((what, ok))

    @property
    def passed(self) -> bool:
        return all(ok for _, ok in self.checks)

    def print(self) -> None:
        print(f"\n{self.name}: {'PASS' if self.passed else 'FAIL'}")
        for line in self.figures:
            print(f"  {line}")
        for what, ok in self.checks:
            print(f"  [{'ok' if ok else 'FAIL'}] {what}")


class Traffic:
    """Requests from ``clients`` threads, each paced to ``per_second``, until
    stopped; every answer recorded with its time."""

    def __init__(
        self,
        port: int,
        token: str,
        make: Callable[[random.Random], tuple[str, str, str, dict[str, Any] | None, str]],
        clients: int,
        per_second: float,
    ) -> None:
        self.port, self.make, self.clients, self.per_second = port, make, clients, per_second
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.outcomes: list[Outcome] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.started = 0.0

    def __enter__(self) -> Traffic:
        self.started = time.monotonic()
        self.threads = [
            threading.Thread(target=self.client, args=(n,), daemon=True)
            for n in range(self.clients)
        ]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def client(self, n: int) -> None:
        from bench.tickets import request

        picker = random.Random(n)  # noqa: S311 - which ticket, not a secret
        interval = 1 / self.per_second
        next_at = time.monotonic() + picker.random() * interval
        while not self.stopping.is_set():
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += interval
            what, method, path, body, marker = self.make(picker)
            sent = time.monotonic()
            try:
                status, answer = request(
                    self.port,
                    method,
                    path,
                    self.headers,
                    json.dumps(body).encode() if body is not None else None,
                )
            except OSError as error:
                status, answer = 0, str(error).encode()
            outcome = Outcome(
                sent - self.started,
                what,
                status,
                marker,
                (time.monotonic() - sent) * 1000,
                answer if status >= 300 or status == 0 or what == "create" else b"",
            )
            with self.lock:
                self.outcomes.append(outcome)

    def now(self) -> float:
        return time.monotonic() - self.started


def statuses(outcomes: list[Outcome]) -> str:
    counted = Counter(o.status for o in outcomes)
    return ", ".join(f"{status or 'no answer'}: {n}" for status, n in sorted(counted.items()))


def latency(outcomes: list[Outcome]) -> str:
    ms = sorted(o.ms for o in outcomes)
    if not ms:
        return "no requests"
    return f"p50 {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms"


def settle_mail(lab: stack.Stack, timeout: float = 90) -> float:
    """Run the outbox sweeper until nothing is owed and the queue is empty;
    the seconds that took."""
    started = time.monotonic()

    def settled() -> bool:
        stack.fresh_connection()
        if stack.unsent_notifications():
            stack.sweep_owed_notifications()
        waiting, _ = lab.redis.queued()
        return waiting == 0 and stack.unsent_notifications() == 0

    stack.wait_for(settled, timeout, "the outbox to drain", every=1.0)
    # A delivery a worker child is still carrying out finishes first.
    time.sleep(1.0)
    return time.monotonic() - started


def mail_check(verdict: Verdict, lab: stack.Stack, rows: list[tuple[str, Any]], what: str) -> None:
    """Each outbox row ``(message_id, sent_at)`` sent, and handed to the mail
    backend exactly once."""
    sent = stack.mails_sent(lab.mail_dir)
    unsent = sum(1 for _, sent_at in rows if sent_at is None)
    lost = sum(1 for message_id, _ in rows if sent[message_id] == 0)
    twice = sum(1 for message_id, _ in rows if sent[message_id] > 1)
    verdict.figures.append(
        f"{what}: {len(rows)} owed, {len(rows) - lost - twice} sent once, "
        f"{lost} lost, {twice} sent twice or more, {unsent} rows still unsent"
    )
    verdict.check(f"{what}: none lost, none unsent", lost == 0 and unsent == 0)
    verdict.check(f"{what}: none sent twice", twice == 0)


def wait_worker(timeout: float = 90) -> float:
    """Seconds until the worker answers a ping through the broker."""
    from servicedesk.celery import app

    started = time.monotonic()
    app.send_task("servicedesk.ping").get(timeout=timeout)
    return time.monotonic() - started


# --- Redis down ------------------------------------------------------------------------------


def redis_down(lab: stack.Stack, fixture: Any, port: int, outage: float, shared: float) -> Verdict:
    """The broker down for ``outage`` seconds (the cache on its own Redis,
    up); before that, for ``shared`` seconds, both down at once, as when one
    Redis is broker and cache (``docker-compose.yml``)."""
    assert lab.cache is not None
    verdict = Verdict(f"Redis down while tickets are created (the broker {outage:.0f} s)")
    verdict.figures.append(f"machine: {stack.machine_load()} at the start")
    if shared:
        redis_outage(verdict, lab, fixture, port, shared, [lab.redis, lab.cache], "broker+cache")
    redis_outage(verdict, lab, fixture, port, outage, [lab.redis], "broker")
    verdict.figures.append(f"machine: {stack.machine_load()} at the end")
    return verdict


def redis_outage(
    verdict: Verdict,
    lab: stack.Stack,
    fixture: Any,
    port: int,
    outage: float,
    servers: list[stack.PrivateRedis],
    label: str,
) -> None:
    from tickets.models import Notification, Ticket

    run = uuid.uuid4().hex[:8]

    def create(_: random.Random) -> tuple[str, str, str, dict[str, Any], str]:
        marker = f"redis-{run}-{uuid.uuid4().hex[:12]}"
        body = {"title": f"Fault {marker}: the VPN drops", "impact": 2, "urgency": 3}
        return "create", "POST", API, body, marker

    with Traffic(port, fixture.token, create, clients=2, per_second=2) as traffic:
        time.sleep(8)
        down_at = traffic.now()
        for server in servers:
            server.stop()
        time.sleep(outage)
        for server in servers:
            server.start()
        up_at = traffic.now()
        time.sleep(12)
    # kombu 5.7's Redis transport can die on losing the broker while a
    # late-acked task is unacked (restoring it, it reads the connection it has
    # just released: "'NoneType' object has no attribute 'hostname'"). The
    # compose file restarts a worker that exits (restart: unless-stopped); so
    # does this.
    survived = lab.worker.alive()
    if not survived:
        lab.worker.start()
    reconnect = wait_worker()
    drained = settle_mail(lab)

    stack.fresh_connection()
    outcomes = traffic.outcomes
    during = [o for o in outcomes if down_at <= o.at < up_at]
    stored = {
        title.split(" ")[1].rstrip(":"): n
        for title, n in Counter(
            Ticket.objects.for_tenant(fixture.tenant_id)
            .filter(title__startswith=f"Fault redis-{run}-")
            .values_list("title", flat=True)
        ).items()
    }
    ok_missing = sum(1 for o in outcomes if o.ok and stored.get(o.marker, 0) != 1)
    not_stored = sum(1 for o in outcomes if not o.ok and stored.get(o.marker, 0) != 0)
    unasked = len(set(stored) - {o.marker for o in outcomes})
    verdict.figures += [
        f"{label} down {outage:.0f} s: {len(outcomes)} creates ({statuses(outcomes)}); "
        f"{len(during)} while down ({statuses(during)}; {latency(during)}); before and after: "
        f"{latency([o for o in outcomes if not down_at <= o.at < up_at])}",
        f"{label}: worker answering {reconnect:.1f} s after Redis was back, outbox drained "
        f"{drained:.1f} s later (the sweeper run as three minutes on)",
    ]
    for o in [o for o in during if not o.ok][:1]:
        verdict.figures.append(f"  e.g. {o.status}: {o.answer[:100]!r}")
    verdict.figures.append(
        f"{label}: the worker "
        + (
            "reconnected by itself"
            if survived
            else "WARN: exited on losing the broker (kombu, see celery.log) and was started "
            "again, as the compose file's restart policy does"
        )
    )
    verdict.check(f"{label}: every 2xx is one stored ticket ({ok_missing} not)", ok_missing == 0)
    verdict.check(f"{label}: no other answer stored a ticket ({not_stored} did)", not_stored == 0)
    verdict.check(f"{label}: no ticket stored unanswered ({unasked})", unasked == 0)
    rows = list(
        Notification.objects.unscoped()
        .filter(ticket__title__startswith=f"Fault redis-{run}-")
        .values_list("message_id", "sent_at")
    )
    verdict.check(f"{label}: each stored ticket owed its mail", len(rows) == sum(stored.values()))
    mail_check(verdict, lab, rows, f"{label}: mail of the tickets")


# --- Killing the worker -----------------------------------------------------------------------


@dataclass
class Round:
    picked: list[int]
    killed_after: float | None
    at_kill: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def make_due(count: int, used: set[int]) -> list[int]:
    """``count`` fresh resolution clocks due now (half warning, half breach);
    their ids."""
    from django.utils import timezone

    from bench import sla_sweep
    from slo.models import Clock

    before = set(used)
    sla_sweep.make_due(count, timezone.now(), used)
    picked = sorted(used - before)
    assert Clock.objects.unscoped().filter(pk__in=picked, sweep_at__isnull=False).count() == count
    return picked


def sweep_state(picked: list[int]) -> dict[str, int]:
    """How far the sweep of the ``picked`` clocks got: marked, runs queued,
    runs done, escalation mail sent."""
    from django.utils import timezone

    from slo.models import Clock, EscalationRun
    from tickets.models import Notification

    now = timezone.now()
    clocks = Clock.objects.unscoped().filter(pk__in=picked)
    runs = EscalationRun.objects.unscoped().filter(clock_id__in=picked)
    tickets = list(clocks.values_list("ticket_id", flat=True))
    return {
        "marked": clocks.filter(marked(now)).count(),
        "runs": runs.count(),
        "done": runs.filter(done_at__isnull=False).count(),
        "mail sent": Notification.objects.unscoped()
        .filter(ticket_id__in=tickets, reason__in=ESCALATION_REASONS, sent_at__isnull=False)
        .count(),
    }


ESCALATION_REASONS = ("sla_warning", "sla_breach")


def marked(now: Any) -> Any:
    """Clocks whose due warning (due time ahead) or breach (due time past)
    the sweep has handled: ``make_due`` left both kinds unhandled."""
    from django.db.models import Q

    return Q(due_at__lte=now, breach_handled=True, breached_at__isnull=False) | Q(
        due_at__gt=now, warning_handled=True, warned_at__isnull=False
    )


def escalation_check(one: Round) -> None:
    """Each picked clock marked once, its one escalation run done, with one
    audit entry and one mail; appends what is wrong to ``one.problems``."""
    from django.db.models import Count
    from django.utils import timezone

    from slo.models import Clock, EscalationRun
    from slo.rules import SLA_ACTION
    from tickets.models import Notification, TicketEvent

    now = timezone.now()
    clocks = {c.pk: c for c in Clock.objects.unscoped().filter(pk__in=one.picked)}
    handled = set(
        Clock.objects.unscoped().filter(marked(now), pk__in=one.picked).values_list("pk", flat=True)
    )
    runs = list(EscalationRun.objects.unscoped().filter(clock_id__in=one.picked))
    by_clock = Counter(run.clock_id for run in runs)
    tickets = {c.ticket_id: c for c in clocks.values()}
    escalated = dict(
        TicketEvent.objects.unscoped()
        .filter(ticket_id__in=tickets, action=SLA_ACTION, new_value="escalated")
        .values_list("ticket_id")
        .annotate(n=Count("pk"))
        .values_list("ticket_id", "n")
    )
    mailed = dict(
        Notification.objects.unscoped()
        .filter(ticket_id__in=tickets, reason__in=ESCALATION_REASONS)
        .values_list("ticket_id")
        .annotate(n=Count("pk"))
        .values_list("ticket_id", "n")
    )
    for pk, clock in clocks.items():
        if pk not in handled:
            one.problems.append(f"clock {pk} not marked")
        if by_clock[pk] != 1:
            one.problems.append(f"clock {pk}: {by_clock[pk]} escalation runs")
        if escalated.get(clock.ticket_id, 0) != 1:
            one.problems.append(
                f"ticket {clock.ticket_id}: escalated {escalated.get(clock.ticket_id, 0)} times"
            )
        if mailed.get(clock.ticket_id, 0) != 1:
            one.problems.append(
                f"ticket {clock.ticket_id}: {mailed.get(clock.ticket_id, 0)} escalation mails"
            )
    undone = sum(1 for run in runs if run.done_at is None)
    if undone:
        one.problems.append(f"{undone} escalation runs still pending")


def kill_round(
    lab: stack.Stack,
    used: set[int],
    due: int,
    kill_within: tuple[float, float] | None,
    whole: bool = True,
) -> Round:
    """Clocks due, the sweep task queued, the worker killed at a random
    moment of ``kill_within`` (seconds after queueing; None: no kill, the
    sweep timed) -- the whole worker, started again after, or (``whole``
    false) one pool process, whose task the worker runs again at once --
    then the next tick's sweep and the outbox sweeper, and the invariant
    checked."""
    from servicedesk.celery import app

    stack.fresh_connection()
    picked = make_due(due, used)
    one = Round(picked, None)
    queued = time.monotonic()
    result = app.send_task("slo.sweep_clocks")
    if kill_within is None:
        result.get(timeout=120)
        # The mail the escalations queued goes out too.
        stack.wait_for(
            lambda: sweep_state(picked)["mail sent"] >= due, 60, "escalation mail", every=0.1
        )
        one.at_kill = {"seconds": int((time.monotonic() - queued) * 1000)}
    else:
        delay = random.uniform(*kill_within)  # noqa: S311 - when to kill, not a secret
        time.sleep(max(0.0, delay - (time.monotonic() - queued)))
        if whole:
            lab.worker.kill()
        else:
            lab.worker.kill_child(random.choice(lab.worker.children()))  # noqa: S311
        one.killed_after = time.monotonic() - queued
        stack.fresh_connection()
        one.at_kill = sweep_state(picked)
        if whole:
            lab.worker.start()
        wait_worker()
        # The next beat tick: the sweep again, which carries out what is pending.
        app.send_task("slo.sweep_clocks").get(timeout=120)
    settle_mail(lab)
    stack.fresh_connection()
    escalation_check(one)
    return one


def worker_killed(lab: stack.Stack, fixture: Any, port: int, rounds: int, due: int) -> Verdict:
    from tickets.models import Comment, Notification

    verdict = Verdict("Celery worker killed (SIGKILL, pool and all) mid-task")
    load = stack.machine_load()
    keys = stack.open_ticket_keys(fixture.tenant_id)
    run = uuid.uuid4().hex[:8]
    used: set[int] = USED_CLOCKS
    results: list[Round] = []

    def reply(picker: random.Random) -> tuple[str, str, str, dict[str, Any], str]:
        marker = f"kill-{run}-{uuid.uuid4().hex[:12]}"
        body = {"body": f"Reply {marker}: we are on it."}
        return "reply", "POST", f"{API}{picker.choice(keys)}/comments/", body, marker

    with Traffic(port, fixture.token, reply, clients=2, per_second=3) as traffic:
        for _ in range(rounds):
            results.append(kill_round(lab, used, due, (0.5, 4.0)))
        time.sleep(2)
    drained = settle_mail(lab)
    stack.fresh_connection()
    for n, one in enumerate(results, 1):
        state = ", ".join(f"{k} {v}" for k, v in one.at_kill.items())
        verdict.figures.append(
            f"round {n}: {due} clocks due, killed {one.killed_after:.2f} s after queueing the "
            f"sweep (then: {state}); after restart: {len(one.problems)} problems"
            + (f" — {'; '.join(one.problems[:3])}" if one.problems else "")
        )
        verdict.check(f"round {n}: each clock marked once, escalated once", not one.problems)
    replies = traffic.outcomes
    stored = set(
        Comment.objects.unscoped()
        .filter(body__startswith=f"Reply kill-{run}-")
        .values_list("body", flat=True)
    )
    stored_markers = {body.split(" ")[1].rstrip(":") for body in stored}
    ok_missing = sum(1 for o in replies if o.ok and o.marker not in stored_markers)
    verdict.figures.insert(0, f"machine: {load} at the start, {stack.machine_load()} at the end")
    verdict.figures.append(
        f"replies meanwhile: {len(replies)} ({statuses(replies)}); outbox drained {drained:.1f} s "
        "after the last round"
    )
    verdict.check(f"every 2xx reply stored ({ok_missing} not)", ok_missing == 0)
    rows = list(
        Notification.objects.unscoped()
        .filter(created_at__gte=START[0])
        .values_list("message_id", "sent_at")
    )
    mail_check(verdict, lab, rows, "mail of the replies and escalations")
    return verdict


def sweeper_killed(lab: stack.Stack, kills: int, due: int) -> Verdict:
    verdict = Verdict(f"SLA sweeper killed (SIGKILL) at random points, {kills} times")
    load = stack.machine_load()
    timing = kill_round(lab, USED_CLOCKS, due, None)
    seconds = timing.at_kill["seconds"] / 1000
    verdict.figures.append(
        f"machine: {load}; an unkilled sweep of {due} due clocks, its escalations and their "
        f"mail: {seconds:.2f} s"
    )
    verdict.check("unkilled round: each clock marked once, escalated once", not timing.problems)
    picked_all = list(timing.picked)
    window = 0
    for n in range(1, kills + 1):
        # Odd kills take the whole worker; even ones one pool process.
        whole = n % 2 == 1
        one = kill_round(lab, USED_CLOCKS, due, (0.02, max(seconds, 0.5)), whole)
        picked_all += one.picked
        state = one.at_kill
        between = state.get("marked", 0) > 0 and state.get("done", 0) < state.get("runs", 0)
        window += between
        verdict.figures.append(
            f"kill {n} ({'worker' if whole else 'one pool process'}): at "
            f"{one.killed_after:.2f} s — {state.get('marked', 0)} marked, "
            f"{state.get('runs', 0)} runs, {state.get('done', 0)} done, "
            f"{state.get('mail sent', 0)} mailed"
            + (" (between marking and escalating)" if between else "")
            + (f"; PROBLEMS: {'; '.join(one.problems[:3])}" if one.problems else "")
        )
        verdict.check(f"kill {n}: each clock marked once, escalated once", not one.problems)
    verdict.figures.append(f"{window} of {kills} kills fell between marking and escalating")
    from tickets.models import Notification

    rows = list(
        Notification.objects.unscoped()
        .filter(ticket__clocks__in=picked_all, reason__in=ESCALATION_REASONS)
        .values_list("message_id", "sent_at")
    )
    mail_check(verdict, lab, rows, "escalation mail")
    return verdict


# --- PostgreSQL restarted --------------------------------------------------------------------


def postgres_restart(lab: stack.Stack, fixture: Any, port: int, after: float) -> Verdict:
    from tickets.models import Comment, Notification

    verdict = Verdict("PostgreSQL restarted (pg_ctl restart -m fast) under load")
    load = stack.machine_load()
    keys = stack.open_ticket_keys(fixture.tenant_id)
    run = uuid.uuid4().hex[:8]

    def mix(picker: random.Random) -> tuple[str, str, str, dict[str, Any] | None, str]:
        key = picker.choice(keys)
        if picker.random() < 0.3:
            marker = f"pg-{run}-{uuid.uuid4().hex[:12]}"
            body = {"body": f"Reply {marker}: we are on it."}
            return "reply", "POST", f"{API}{key}/comments/", body, marker
        if picker.random() < 0.5:
            return "list", "GET", API, None, ""
        return "read", "GET", f"{API}{key}/", None, ""

    with Traffic(port, fixture.token, mix, clients=4, per_second=4) as traffic:
        time.sleep(10)
        restart_at = traffic.now()
        lab.postgres.restart()
        back_at = traffic.now()
        time.sleep(after)
    drained = settle_mail(lab)
    stack.fresh_connection()
    outcomes = traffic.outcomes
    errors = [o for o in outcomes if not o.ok]
    late = [o for o in errors if o.at > back_at + 30]
    window = (max(o.at for o in errors) - min(o.at for o in errors)) if errors else 0.0
    first = (min(o.at for o in errors) - restart_at) if errors else 0.0
    verdict.figures += [
        f"machine: {load} at the start, {stack.machine_load()} at the end",
        f"restart took {back_at - restart_at:.1f} s; {len(outcomes)} requests "
        f"({statuses(outcomes)})",
        (
            f"errors: {len(errors)}, from {first:+.1f} s to {first + window:+.1f} s of the restart "
            f"(a window of {window:.1f} s); {len(late)} later than 30 s after it"
        ),
        f"after the restart: {latency([o for o in outcomes if o.at > back_at + 5])}",
    ]
    for o in errors[:3]:
        verdict.figures.append(f"  e.g. {o.what} {o.status} at {o.at - restart_at:+.2f} s: "
                               f"{o.answer[:120]!r}")  # fmt: skip
    verdict.check("no error later than 30 s after the restart", not late)
    verdict.check(
        "the app answers again without a restart of its own",
        bool(outcomes) and all(o.ok for o in outcomes if o.at > back_at + 30),
    )
    stored = {
        body.split(" ")[1].rstrip(":")
        for body in Comment.objects.unscoped()
        .filter(body__startswith=f"Reply pg-{run}-")
        .values_list("body", flat=True)
    }
    replies = [o for o in outcomes if o.what == "reply"]
    ok_missing = sum(1 for o in replies if o.ok and o.marker not in stored)
    not_stored = sum(1 for o in replies if not o.ok and o.marker in stored)
    verdict.check(f"every 2xx reply stored ({ok_missing} not)", ok_missing == 0)
    verdict.check(f"no other answer stored a reply ({not_stored} did)", not_stored == 0)
    rows = list(
        Notification.objects.unscoped()
        .filter(body__contains=f"Reply pg-{run}-")
        .values_list("message_id", "sent_at")
    )
    verdict.figures.append(f"outbox drained {drained:.1f} s after the traffic stopped")
    mail_check(verdict, lab, rows, "mail of the replies")
    return verdict


# --- The run --------------------------------------------------------------------------------

USED_CLOCKS: set[int] = set()
START: list[Any] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-down", action="store_true")
    parser.add_argument("--worker-killed", action="store_true")
    parser.add_argument("--postgres-restart", action="store_true")
    parser.add_argument("--sweeper-killed", action="store_true")
    parser.add_argument("--outage", type=float, default=60, help="seconds the broker is down")
    parser.add_argument(
        "--shared-outage",
        type=float,
        default=20,
        help="seconds broker and cache are down together first (0: skip)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="worker kills (--worker-killed)")
    parser.add_argument("--kills", type=int, default=10, help="sweeper kills (--sweeper-killed)")
    parser.add_argument("--due", type=int, default=100, help="clocks made due per round")
    parser.add_argument("--after", type=float, default=40, help="seconds of traffic after restart")
    args = parser.parse_args()
    chosen = {
        name
        for name in ("redis_down", "worker_killed", "postgres_restart", "sweeper_killed")
        if getattr(args, name)
    } or {"redis_down", "worker_killed", "postgres_restart", "sweeper_killed"}

    from bench import sla_sweep
    from bench.tickets import gunicorn

    out = ROOT / "var" / "bench" / "faults"
    started = time.monotonic()
    verdicts: list[Verdict] = []
    with stack.private_stack("faults", out, split_cache=True) as lab:
        stack.setup_django(collectstatic=True)
        from django.conf import settings
        from django.utils import timezone

        START.append(timezone.now())
        fixture = stack.seed_tickets(3000, 2000)
        desk = sla_sweep.seed_tenants(SLA_TENANTS, SLA_TENANTS, timezone.now())
        sla_sweep.top_up(desk, SLA_TICKETS, 0, timezone.now())
        lab.worker.start()
        wait_worker()
        port = stack.free_port()
        health = settings.DATABASES["default"].get("CONN_HEALTH_CHECKS", False)
        print(
            f"fault benchmark: {fixture.shape}; {SLA_TENANTS} escalating SLA tenants with "
            f"{SLA_TICKETS:,} running clocks\n  gunicorn 2 sync workers on 127.0.0.1:{port}, "
            f"one Celery worker (2 children), private Redis :{lab.redis.port} and PostgreSQL 15 "
            f":{lab.postgres.port}; CONN_MAX_AGE "
            f"{settings.DATABASES['default'].get('CONN_MAX_AGE')}, CONN_HEALTH_CHECKS {health}; "
            f"logs in {out.relative_to(ROOT)}",
            flush=True,
        )
        with gunicorn(lab.env, port, 2, out / "gunicorn.log"):
            steps: list[tuple[str, Callable[[], Verdict]]] = [
                (
                    "redis_down",
                    lambda: redis_down(lab, fixture, port, args.outage, args.shared_outage),
                ),
                (
                    "worker_killed",
                    lambda: worker_killed(lab, fixture, port, args.rounds, args.due),
                ),
                ("postgres_restart", lambda: postgres_restart(lab, fixture, port, args.after)),
                ("sweeper_killed", lambda: sweeper_killed(lab, args.kills, args.due)),
            ]
            for name, step in steps:
                if name not in chosen:
                    continue
                print(f"  {name.replace('_', ' ')} …", flush=True)
                step_started = time.monotonic()
                try:
                    verdict = step()
                except Exception as error:  # a step that breaks is a FAIL, the others go on
                    verdict = Verdict(name.replace("_", " "))
                    verdict.check(f"the step ran ({type(error).__name__}: {error})", False)
                verdict.figures.append(f"step time {time.monotonic() - step_started:.0f} s")
                verdict.print()
                verdicts.append(verdict)
    passed = sum(v.passed for v in verdicts)
    print(
        f"\n{passed} of {len(verdicts)} faults PASS; whole run {time.monotonic() - started:.0f} s"
    )
    sys.exit(0 if passed == len(verdicts) else 1)


if __name__ == "__main__":
    # A SIGTERM unwinds like Ctrl-C, so every process started is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    main()
