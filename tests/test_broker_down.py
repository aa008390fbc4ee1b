"""A request that queues mail after its commit answers promptly while the
broker is down: the outbox row is committed and the sweeper sends it later,
so queueing may fail, but it must fail fast."""

from __future__ import annotations

import socket
import subprocess
import sys

from tests.processes import ROOT, child_env

# Queue each task the way a request does after its commit, with Redis on a
# port where nothing listens; print how long each attempt took.
SCRIPT = """
import time
import django

django.setup()
from servicedesk.celery import app

calls = {
    "tickets.deliver_notification": (1,),
    "servicedesk.deliver_invitation": (1,),
    "servicedesk.send_email": ("subject", "body", "someone@example.org"),
}
for name, args in calls.items():
    started = time.monotonic()
    try:
        app.tasks[name].delay(*args)
    except Exception:
        pass
    print(name, round(time.monotonic() - started, 2))
"""


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_queueing_mail_fails_fast_with_the_broker_down(tmp_path):
    """Before: each call waited ~19 s on the result store's reconnect
    (Celery subscribes to a task's result when it is sent), holding the
    request's worker though nobody reads these results."""
    env = child_env(
        drop={"DATABASE_URL"},
        DJANGO_SETTINGS_MODULE="servicedesk.settings",
        REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0",
        SECRET_KEY="broker-down-test-" + "x" * 40,
        DEBUG="1",
        VAR_DIR=str(tmp_path),
        LOG_LEVEL="CRITICAL",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=True,
    )
    seconds = {
        name: float(value)
        for name, value in (line.split() for line in done.stdout.splitlines() if line)
    }
    assert set(seconds) == {
        "tickets.deliver_notification",
        "servicedesk.deliver_invitation",
        "servicedesk.send_email",
    }
    slow = {name: s for name, s in seconds.items() if s > 5}
    assert not slow, f"queueing waited on the broker: {slow}"
