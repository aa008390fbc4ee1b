"""Background work on SLAs: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from slo import escalations, services


@shared_task(name="slo.sweep_clocks", queue="default")
def sweep_clocks() -> dict[str, int]:
    """Sweeper, every minute: mark due warnings and breaches (in batches
    until none is left), then carry out the escalations they queued."""
    totals = {"clocks": 0, "warnings": 0, "breaches": 0, "escalations": 0}
    for _ in range(20):  # at most 20 batches a tick; the next tick goes on
        result = services.clocks_sweep()
        totals["clocks"] += result.clocks
        totals["warnings"] += result.warnings
        totals["breaches"] += result.breaches
        totals["escalations"] += result.escalations
        if result.clocks == 0:
            break
    totals["escalated"] = escalations.escalations_run_pending()
    return totals
