"""/healthz and /readyz."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from servicedesk import health


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_embedded_checks_only_the_database(db, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database"}
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.redis
def test_readyz_with_redis(db, client, settings):
    settings.REDIS_URL = settings.TEST_REDIS_URL
    body = client.get("/readyz").json()
    assert body["checks"]["redis"]["ok"] is True
    assert body["status"] == "ok"


def test_readyz_reports_unreachable_redis(db, client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["database"]["ok"] is True


def test_readyz_reports_a_dead_database(db, client, monkeypatch):
    class DeadConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", DeadConnection())
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "error": "OperationalError"}


def test_probes_refuse_writes(client):
    assert client.post("/healthz").status_code == 405
