"""Celery wiring: the beat schedule in the database, embedded beat, Redis workers."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from celery import Celery
from celery.result import allow_join_result
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from servicedesk.celery import app
from servicedesk.models import Invitation
from tests.processes import ROOT, child_env


def test_safe_defaults():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_time_limit == 300
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit


def test_tasks_are_autodiscovered():
    app.loader.import_default_modules()
    assert "servicedesk.purge_stale_invitations" in app.tasks
    assert "servicedesk.ping" in app.tasks


@pytest.mark.django_db(transaction=True)
def test_beat_schedule_lives_in_the_database():
    DatabaseScheduler(app=app)
    task = PeriodicTask.objects.get(name="purge-stale-invitations")
    assert task.task == "servicedesk.purge_stale_invitations"
    assert task.interval.schedule.run_every == timedelta(hours=1)
    assert task.enabled


@pytest.mark.django_db(transaction=True)
def test_embedded_beat_runs_due_tasks_in_process(world):
    """What `make run` does: beat in a thread, tasks run eagerly in it."""
    from servicedesk.embedded import embedded_beat_service

    stale = Invitation.objects.create(
        tenant=world.tenant,
        email="stale@example.org",
        created_at=timezone.now() - timedelta(days=90),
    )
    every_second, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.create(
        name="purge-now", task="servicedesk.purge_stale_invitations", interval=every_second
    )
    service = embedded_beat_service()
    service.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if not Invitation.objects.for_tenant(world.tenant).filter(pk=stale.pk).exists():
                break
            time.sleep(0.2)
        assert not Invitation.objects.for_tenant(world.tenant).filter(pk=stale.pk).exists()
        assert Invitation.objects.for_tenant(world.tenant).filter(pk=world.invitation.pk).exists()
    finally:
        service.stop()
        service.join(timeout=10)
    # A beat thread that outlived its test would go on running eager tasks,
    # which flag the whole process as "inside a task" while they run.
    assert not service.is_alive()


def test_redis_url_switches_celery_to_the_broker():
    code = (
        "from servicedesk.celery import app; c = app.conf; "
        "print(c.broker_url, c.result_backend, c.task_always_eager)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=child_env(REDIS_URL="redis://127.0.0.1:6379/3"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert out == ["redis://127.0.0.1:6379/3", "redis://127.0.0.1:6379/3", "False"]


@pytest.mark.redis
def test_task_round_trip_through_redis_and_a_real_worker(settings):
    """A `celery worker` process on Redis picks up a task and returns its result."""
    url = settings.TEST_REDIS_URL
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "servicedesk",
            "worker",
            "--pool",
            "solo",
            "-Q",
            "default",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=child_env(REDIS_URL=url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    client = Celery("test-client", broker=url, backend=url)
    try:
        result = client.send_task("servicedesk.ping", queue="default")
        # Eager tasks run by other tests in threads may have left Celery's
        # process-wide "inside a task" flag set; this test is no task.
        with allow_join_result():
            assert result.get(timeout=60) == "pong"
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        client.close()
    assert "Traceback" not in output, output
