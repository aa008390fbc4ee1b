"""The production stack in miniature, for ``bench/load.py`` and
``bench/faults.py``: a private PostgreSQL cluster and a private Redis (own
ports, data under a temporary folder), a Celery worker and gunicorn, all on
127.0.0.1 and all stopped again by the script that started them; a seeded
database; and the counts the scripts check (mails per Message-ID, pending
outbox rows, the broker queue).

Private servers because the faults stop and restart them: the shared ones on
the standard ports belong to whoever else uses the machine."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ROLE = "servicedesk"
QUEUE = "default"  # every task's queue (servicedesk/settings.py)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def machine_load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def wait_for(check: Any, timeout: float, what: str, every: float = 0.2) -> float:
    """Seconds until ``check()`` is true; RuntimeError past ``timeout``."""
    started = time.monotonic()
    while True:
        with contextlib.suppress(Exception):
            if check():
                return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


# --- Private servers ----------------------------------------------------------------------------


class PrivatePostgres:
    """A PostgreSQL 15 cluster of our own: data under ``root``, listening on
    127.0.0.1:``port`` only, its socket in ``root`` (PostgreSQL refuses root,
    so it runs as the ``postgres`` user)."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.data = root / "pgdata"
        self.log = root / "postgres.log"

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(  # noqa: S603 - Debian's own binaries, our arguments
            ["runuser", "-u", "postgres", "--", *command],  # noqa: S607
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    def init(self) -> None:
        shutil.chown(self.root, user="postgres")
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E",
            "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        self.start()
        admin = self.connect("postgres", user="postgres")
        try:
            with admin.cursor() as cursor:
                cursor.execute(f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{ROLE}'")
                cursor.execute(f"CREATE DATABASE {ROLE} OWNER {ROLE}")
        finally:
            admin.close()

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
            "-o", options, action, *extra,
        )  # fmt: skip

    def url(self, database: str = ROLE) -> str:
        return f"postgres://{ROLE}:{ROLE}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str, user: str = ROLE) -> Any:
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user=user, password=ROLE, dbname=database
        )
        conn.autocommit = True
        return conn


class PrivateRedis:
    """A Redis of our own on 127.0.0.1:``port``, without persistence: a
    restart comes back empty, as a flushed or replaced broker would."""

    def __init__(self, root: Path, port: int, name: str = "redis") -> None:
        self.root, self.port, self.name = root, port, name
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [  # noqa: S607
                "redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--dir", str(self.root), "--logfile",
                str(self.root / f"{self.name}.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        wait_for(lambda: self.client().ping(), 20, "redis start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def queued(self) -> tuple[int, int]:
        """(messages waiting in the queue, messages taken but not acked)."""
        client = self.client()
        return int(client.llen(QUEUE)), int(client.hlen("unacked"))


# --- Processes of the application ----------------------------------------------------------------


class CeleryWorker:
    """One ``celery worker`` (prefork, ``concurrency`` children) in a session
    of its own, so that ``kill()`` takes the main process and its children
    at once, as a lost machine or the OOM killer would."""

    def __init__(self, env: dict[str, str], log: Path, concurrency: int = 2) -> None:
        self.env, self.log, self.concurrency = env, log, concurrency
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0

    def start(self) -> None:
        self.started += 1
        with self.log.open("a") as log:
            self.process = subprocess.Popen(  # noqa: S603
                [
                    sys.executable, "-m", "celery", "-A", "servicedesk", "worker", "-l", "warning",
                    "-P", "prefork", "-c", str(self.concurrency), "-Q", QUEUE,
                    "-n", f"bench{self.started}-{secrets.token_hex(3)}@%h",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL to the worker and its pool: no chance to finish or ack."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)
        self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def children(self) -> list[int]:
        """The pool's processes: those whose parent is the worker's main one."""
        if self.process is None:
            return []
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                # pid (comm) state ppid …: comm may hold spaces, so split after it.
                fields = stat.read_text().rpartition(")")[2].split()
                if int(fields[1]) == self.process.pid:
                    found.append(int(stat.parent.name))
        return found

    def kill_child(self, pid: int) -> None:
        """SIGKILL to one pool process: the main process sees it lost, rejects
        its task back to the queue (``task_reject_on_worker_lost``) and forks a
        new one, so the task runs again at once."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None


@dataclass
class Stack:
    """The servers, the environment every process of the app gets, and where
    the mail goes."""

    root: Path
    postgres: PrivatePostgres
    redis: PrivateRedis  # the broker (and the cache, unless ``cache`` is one of its own)
    cache: PrivateRedis | None
    database_url: str
    env: dict[str, str]
    mail_dir: Path
    worker: CeleryWorker
    logs: Path
    notes: list[str] = field(default_factory=list)


@contextlib.contextmanager
def private_stack(name: str, keep_logs: Path, split_cache: bool = False) -> Iterator[Stack]:
    """Start PostgreSQL and Redis of our own, make the bench database and
    point this process's Django at it; stop all of it at the end, however
    the block ends. With ``split_cache`` the cache gets a second Redis, so
    that the broker can fail alone. Logs are copied to ``keep_logs``."""
    root = Path(tempfile.mkdtemp(prefix=f"servicedesk-{name}-"))
    postgres = PrivatePostgres(root, free_port())
    redis_server = PrivateRedis(root, free_port(), "redis")
    cache = PrivateRedis(root, free_port(), "redis-cache") if split_cache else None
    mail_dir = root / "mail"
    mail_dir.mkdir()
    logs = keep_logs
    logs.mkdir(parents=True, exist_ok=True)
    worker: CeleryWorker | None = None
    try:
        postgres.init()
        redis_server.start()
        if cache is not None:
            cache.start()
        database_url = postgres.url(f"bench_{name}")
        admin = postgres.connect(ROLE)
        try:
            with admin.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "bench_{name}"')
        finally:
            admin.close()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.stack_settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": (cache or redis_server).url(),
            "BENCH_BROKER_URL": redis_server.url() if cache is not None else "",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "BENCH_MAIL_DIR": str(mail_dir),
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "STATIC_ROOT": str(ROOT / "var" / "bench" / "static"),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        os.environ.update(env)
        worker = CeleryWorker(env, logs / "celery.log")
        yield Stack(root, postgres, redis_server, cache, database_url, env, mail_dir, worker, logs)
    finally:
        if worker is not None:
            worker.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        redis_server.stop()
        if cache is not None:
            cache.stop()
        postgres.stop()
        for log in ("postgres.log", "redis.log", "redis-cache.log"):
            with contextlib.suppress(OSError):
                shutil.copy(root / log, logs / log)
        shutil.rmtree(root, ignore_errors=True)


def setup_django(collectstatic: bool = False) -> None:
    """Django in this process, on the bench database, migrated."""
    import django

    django.setup()
    import logging

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if collectstatic:
        # DEBUG off serves static files from the manifest, as in production.
        call_command("collectstatic", verbosity=0, interactive=False)
    # A broker that is down is the point of some runs: its retries say nothing here.
    logging.getLogger("kombu").setLevel(logging.CRITICAL)
    logging.getLogger("celery").setLevel(logging.CRITICAL)


def fresh_connection() -> None:
    """Drop this process's database connection (a restarted server broke it)."""
    from django.db import connection

    connection.close()


# --- Seeds -----------------------------------------------------------------------------------


def seed_tickets(tickets: int, big: int) -> Any:
    """``bench/tickets.py``'s seed at a small size (two tenants, the big one
    holding ``big``) and its fixture: an agent of the big tenant with an API
    token."""
    from bench import tickets as ticket_bench

    ticket_bench.seed(ticket_bench.Size(tickets, 2, big))
    return ticket_bench.make_fixture()


def open_ticket_keys(tenant_id: int, limit: int = 500) -> list[str]:
    """Keys of open, not confidential tickets of the tenant: every agent may
    read them and reply on them."""
    from tickets.models import Ticket

    rows = (
        Ticket.objects.for_tenant(tenant_id)
        .filter(status__in=["new", "in_progress", "pending"], is_confidential=False)
        .order_by("-number")[:limit]
    )
    return [ticket.key for ticket in rows]


# --- Counting what was owed and what was sent ---------------------------------------------------

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.MULTILINE | re.IGNORECASE)


def mails_sent(mail_dir: Path) -> Counter[str]:
    """How often each Message-ID was handed to the mail backend (a long one
    is folded onto the next line)."""
    sent: Counter[str] = Counter()
    for path in mail_dir.glob("*.log"):
        for match in MESSAGE_ID.finditer(path.read_bytes()):
            sent[match.group(1).decode()] += 1
    return sent


def unsent_notifications() -> int:
    from tickets.models import Notification

    return Notification.objects.unscoped().filter(sent_at__isnull=True).count()


def sweep_owed_notifications(minutes_later: int = 3) -> int:
    """The beat sweeper's work (``tickets.deliver_owed_notifications``) as it
    would find the outbox ``minutes_later`` from now, carried out here: the
    rows it picks are sent now, through the same services and mail backend."""
    from datetime import timedelta

    from django.utils import timezone

    from tickets import services

    owed = services.notifications_owed(now=timezone.now() + timedelta(minutes=minutes_later))
    return sum(services.notification_deliver(notification_id=pk) for pk in owed)
