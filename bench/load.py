"""Load held: the API mix at a steady rate, then stepped up, on the
production stack in miniature.

Starts on 127.0.0.1, all of its own (``bench/stack.py``): a PostgreSQL 15
cluster and a Redis (private ports and data), gunicorn (``--workers`` sync
workers, DEBUG off) and one Celery worker delivering the mail to the file
backend. Seeds ``--tickets`` tickets with ``bench/tickets.py``'s set-based
seed and drives, with locust (headless, the optional ``bench`` extra), as one
agent with an API token:

* 70 % reads: ``GET /api/v1/tickets/`` and ``GET /api/v1/tickets/{key}/``;
* 20 % replies: ``POST /api/v1/tickets/{key}/comments/`` (each owes the
  requester a mail: an outbox row, delivered by the worker);
* 10 % searches: ``GET /api/v1/tickets/?q=…``.

First ``--rate`` requests a second for ``--seconds`` (50 for 180 s: the
target is no error), then each of ``--steps`` for ``--step-seconds``. After
each run it waits for the mail to drain -- no unsent ``Notification`` row,
nothing in the Redis queue or taken unacked -- and reports how long that took
(target: within 60 s). The table gives per run the rate asked and achieved,
p50/p95/p99, errors, the mail owed and sent (each Message-ID once) and the
machine load; last, the highest step held with no error and at least 95 % of
the rate asked. Everything stops at the end; nothing stays behind.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/load.py            # about 8 minutes
    .venv/bin/python bench/load.py --quick    # a smoke check, about 1.5 minutes
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# bench/tickets.py is named like the tickets app: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

from bench import stack  # noqa: E402

SEARCH_WORDS = ["VPN", "printer", "is slow", "Payroll app", "licence", "Wi-Fi down", "badge"]
HELD_SHARE = 0.95  # a step is held when it reaches this share of its rate with no error
DRAIN_TARGET = 60.0


@dataclass
class Run:
    label: str
    rate: int
    seconds: int
    load_before: str
    requests: int = 0
    failures: int = 0
    achieved: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    owed: int = 0
    sent_once: int = 0
    duplicated: int = 0
    drain: float | None = None
    load_after: str = ""
    failure_lines: tuple[str, ...] = ()

    @property
    def held(self) -> bool:
        return self.failures == 0 and self.achieved >= self.rate * HELD_SHARE


def locust_command(explicit: str) -> list[str]:
    if explicit:
        return [explicit]
    beside = Path(sys.executable).with_name("locust")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("locust")
    if found:
        return [found]
    sys.exit("bench/load.py needs locust: pip install -e '.[bench]' (or pass --locust)")


def run_locust(command: list[str], port: int, config: Path, run: Run, out: Path) -> None:
    """One headless locust run at ``run.rate`` requests a second: that many
    users, each paced to one request a second, all started at once."""
    prefix = out / run.label.replace(" ", "_")
    env = {**os.environ, "BENCH_LOAD_CONFIG": str(config), "BENCH_LOAD_PER_USER": "1"}
    subprocess.run(  # noqa: S603 - locust with our own arguments
        [
            *command, "-f", str(BENCH_DIR / "locustfile.py"), "--headless",
            "--host", f"http://127.0.0.1:{port}", "-u", str(run.rate), "-r", str(run.rate),
            "-t", f"{run.seconds}s", "--stop-timeout", "10", "--csv", str(prefix),
            "--only-summary", "--loglevel", "WARNING", "--skip-log-setup",
        ],
        env=env,
        stdout=(out / "locust.log").open("a"),
        stderr=subprocess.STDOUT,
        timeout=run.seconds + 120,
        check=False,  # locust exits 1 when a request failed: the figures say so
    )  # fmt: skip
    with Path(f"{prefix}_stats.csv").open() as stats:
        for row in csv.DictReader(stats):
            if row["Name"] == "Aggregated":
                run.requests = int(row["Request Count"])
                run.failures = int(row["Failure Count"])
                run.p50, run.p95, run.p99 = (float(row[p] or 0) for p in ("50%", "95%", "99%"))
                # Over the time the requests really took, the start and the stop included.
                run.achieved = float(row["Requests/s"])
    with Path(f"{prefix}_failures.csv").open() as failures:
        run.failure_lines = tuple(
            f"{row['Occurrences']} × {row['Method']} {row['Name']}: {row['Error'][:160]}"
            for row in csv.DictReader(failures)
        )


def drain(lab: stack.Stack, since_id: int, run: Run, timeout: float) -> None:
    """Seconds until the mail the run owed is all sent and the broker's queue
    is empty; and whether each mail went out exactly once."""
    from tickets.models import Notification

    def empty() -> bool:
        waiting, unacked = lab.redis.queued()
        return waiting == 0 and unacked == 0 and stack.unsent_notifications() == 0

    started = time.monotonic()
    try:
        stack.wait_for(empty, timeout, "mail drain", every=0.5)
        run.drain = time.monotonic() - started
    except RuntimeError:
        run.drain = None
    owed = list(
        Notification.objects.unscoped().filter(pk__gt=since_id).values_list("message_id", flat=True)
    )
    sent = stack.mails_sent(lab.mail_dir)
    run.owed = len(owed)
    run.sent_once = sum(1 for message_id in owed if sent[message_id] == 1)
    run.duplicated = sum(1 for message_id in owed if sent[message_id] > 1)


def last_notification_id() -> int:
    from django.db.models import Max

    from tickets.models import Notification

    return Notification.objects.unscoped().aggregate(top=Max("pk"))["top"] or 0


def report(runs: list[Run], args: argparse.Namespace) -> None:
    print(
        f"\n{'run':<12} {'asked/s':>7} {'got/s':>6} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'errors':>6} {'mail owed':>9} {'sent 1×':>7} {'dup':>4} "
        f"{'drained':>8}  machine (1/5/15-min load, before → after)"
    )
    for run in runs:
        drained = f"{run.drain:.1f} s" if run.drain is not None else "> 60 s"
        print(
            f"{run.label:<12} {run.rate:7d} {run.achieved:6.1f} {run.requests:8d} {run.p50:7.0f} "
            f"{run.p95:7.0f} {run.p99:7.0f} {run.failures:6d} {run.owed:9d} {run.sent_once:7d} "
            f"{run.duplicated:4d} {drained:>8}  {run.load_before} → {run.load_after}"
        )
        for line in run.failure_lines[:5]:
            print(f"{'':<14}{line}")
    steady = runs[0]
    ok = steady.held and steady.drain is not None and steady.drain <= DRAIN_TARGET
    ok = ok and steady.duplicated == 0 and steady.sent_once == steady.owed
    print(
        f"\ntarget: {steady.rate} req/s for {steady.seconds} s with 0 errors, mail drained "
        f"within {DRAIN_TARGET:.0f} s, each mail once: {'PASS' if ok else 'FAIL'}"
    )
    steps = runs[1:]
    if steps:
        held = [run.rate for run in steps if run.held]
        print(
            f"highest step held (0 errors, ≥ {HELD_SHARE:.0%} of the rate asked, "
            f"{args.step_seconds} s): " + (f"{max(held)} req/s" if held else "none")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=5000, help="tickets seeded in all")
    parser.add_argument("--big", type=int, default=4000, help="tickets of the agent's tenant")
    parser.add_argument("--rate", type=int, default=50, help="requests a second, steady run")
    parser.add_argument("--seconds", type=int, default=180, help="length of the steady run")
    parser.add_argument("--steps", default="50,75,100,150", help="rates of the stepped runs")
    parser.add_argument("--step-seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--drain-timeout", type=float, default=90)
    parser.add_argument("--locust", default="", help="the locust executable (default: found)")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke check: 20 s steady, steps 50,100 of 15 s"
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.steps, args.step_seconds = 20, "50,100", 15
    steps = [int(rate) for rate in args.steps.split(",") if rate]
    command = locust_command(args.locust)
    out = ROOT / "var" / "bench" / "load"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)

    from bench.tickets import gunicorn

    started = time.monotonic()
    runs: list[Run] = []
    with stack.private_stack("load", out) as lab:
        stack.setup_django(collectstatic=True)
        fixture = stack.seed_tickets(args.tickets, args.big)
        keys = stack.open_ticket_keys(fixture.tenant_id)
        config = out / "config.json"
        config.write_text(json.dumps({"token": fixture.token, "keys": keys, "words": SEARCH_WORDS}))
        lab.worker.start()
        from servicedesk.celery import app

        app.send_task("servicedesk.ping").get(timeout=60)
        port = stack.free_port()
        print(
            f"load benchmark: {fixture.shape}; {len(keys)} open tickets to read and reply on\n"
            f"  gunicorn {args.workers} sync workers on 127.0.0.1:{port}, DEBUG off; one Celery "
            f"worker (prefork, 2 children), private Redis :{lab.redis.port} and PostgreSQL 15 "
            f":{lab.postgres.port}; mail to the file backend; logs in {out.relative_to(ROOT)}",
            flush=True,
        )
        plan = [Run("steady", args.rate, args.seconds, "")] + [
            Run(f"step {rate}", rate, args.step_seconds, "") for rate in steps
        ]
        with gunicorn(lab.env, port, args.workers, out / "gunicorn.log"):
            for run in plan:
                since = last_notification_id()
                run.load_before = stack.machine_load().split(" on ")[0].removeprefix("load ")
                print(f"  {run.label}: {run.rate} req/s for {run.seconds} s …", flush=True)
                run_locust(command, port, config, run, out)
                drain(lab, since, run, args.drain_timeout)
                run.load_after = stack.machine_load().split(" on ")[0].removeprefix("load ")
                runs.append(run)
    report(runs, args)
    print(f"\nmachine: {os.cpu_count()} cores; whole run {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    # A SIGTERM unwinds like Ctrl-C, so every process started is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    main()
