"""The embedded path that `make run` takes, end to end, on SQLite.

migrate + seed_demo (twice: it is idempotent) into a fresh SQLite file, then
`manage.py runembedded` serves it; a person signs in over HTTP and loads the
desk, and a small team's worth of clients write at once (SQLite takes one
writer at a time: they must queue, not fail). Nothing here touches PostgreSQL
or Redis.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.processes import ROOT, child_env, manage


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_env(tmp_path):
    return child_env(
        drop={"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}, VAR_DIR=str(tmp_path / "var")
    )


WRITERS = 4
WRITES_EACH = 6


def create_tickets(base: str, secret: str, writer: int) -> list[int]:
    """One client opening tickets as fast as it can; the status of each."""
    statuses = []
    for number in range(WRITES_EACH):
        body = json.dumps(
            {"kind": "incident", "title": f"Concurrent {writer}.{number}", "description": "x"}
        ).encode()
        request = urllib.request.Request(
            f"{base}/api/v1/tickets/",
            data=body,
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


def test_embedded_default_serves_the_seeded_desk(embedded_env, tmp_path):
    manage("migrate", "--noinput", env=embedded_env)
    # A smaller history than `make run`'s: the path is the same, the minutes are not.
    first = manage("seed_demo", "--tickets", "40", env=embedded_env).stdout
    second = manage("seed_demo", "--tickets", "40", env=embedded_env).stdout
    assert "demo-password" in first
    assert first == second
    assert (tmp_path / "var" / "servicedesk.sqlite3").exists()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runembedded", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=embedded_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with opener.open(f"{base}/readyz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)

        with opener.open(f"{base}/accounts/login/", timeout=10) as response:
            page = response.read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token,
                "username": "Agent@ACME.example",  # e-mail login is case-insensitive
                "password": "demo-password",
                "next": "/t/acme/desk/",
            }
        ).encode()
        request = urllib.request.Request(
            f"{base}/accounts/login/", data=form, headers={"Referer": f"{base}/accounts/login/"}
        )
        with opener.open(request, timeout=10) as response:
            assert response.url == f"{base}/t/acme/desk/"
            desk = response.read().decode()
        assert "<h1>Desk</h1>" in desk
        assert "Acme Corporation" in desk
        assert "Service Desk" in desk
        assert "Globex" not in desk

        secret = manage(
            "create_api_token",
            "--tenant=acme",
            "--user=agent@acme.example",
            "--scopes=tickets:read,tickets:write",
            env=embedded_env,
        ).stdout.strip()
        with ThreadPoolExecutor(WRITERS) as pool:
            statuses = [
                status
                for done in pool.map(
                    lambda writer: create_tickets(base, secret, writer), range(WRITERS)
                )
                for status in done
            ]
        assert statuses == [201] * (WRITERS * WRITES_EACH)
        listed = urllib.request.Request(
            f"{base}/api/v1/tickets/?q=Concurrent&page_size=100",
            headers={"Authorization": f"Bearer {secret}"},
        )
        with urllib.request.urlopen(listed, timeout=30) as response:
            titles = {row["title"] for row in json.load(response)["results"]}
        assert len(titles) == WRITERS * WRITES_EACH
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "embedded beat started" in output
    assert "Traceback" not in output, output
