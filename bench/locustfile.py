"""The API mix ``bench/load.py`` drives with locust: 70 % reads (the list and
one ticket, half each), 20 % replies, 10 % text searches, as one agent with
an API token. Each simulated user sends ``BENCH_LOAD_PER_USER`` requests a
second, so the rate is users × that, whatever the latency (up to the pacing).

The token, the tickets to read and reply on and the search words come from
the JSON file ``BENCH_LOAD_CONFIG`` names (written by ``bench/load.py``)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from locust import HttpUser, constant_throughput, task

CONFIG = json.loads(Path(os.environ["BENCH_LOAD_CONFIG"]).read_text())
PER_USER = float(os.environ.get("BENCH_LOAD_PER_USER", "1"))
API = "/api/v1/tickets/"


class Agent(HttpUser):
    wait_time = constant_throughput(PER_USER)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {CONFIG['token']}"
        self.random = random.Random()  # noqa: S311 - picks a ticket, not a secret

    @task(35)
    def list_tickets(self) -> None:
        self.client.get(API, name="GET /api/v1/tickets/")

    @task(35)
    def one_ticket(self) -> None:
        key = self.random.choice(CONFIG["keys"])
        self.client.get(f"{API}{key}/", name="GET /api/v1/tickets/{key}/")

    @task(20)
    def reply(self) -> None:
        key = self.random.choice(CONFIG["keys"])
        self.client.post(
            f"{API}{key}/comments/",
            json={"body": "Thanks, we are looking into it: the load benchmark replies."},
            name="POST /api/v1/tickets/{key}/comments/",
        )

    @task(10)
    def search(self) -> None:
        words = self.random.choice(CONFIG["words"])
        self.client.get(API, params={"q": words}, name="GET /api/v1/tickets/?q=…")
