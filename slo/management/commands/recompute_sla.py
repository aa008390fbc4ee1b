"""Replay the SLA clocks of a tenant's tickets under the current calendars
and policies (after a holiday was added late, say) and say what moved."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicedesk.models import Tenant
from servicedesk.rls import tenant_context
from slo import services


def _instant(option: str, text: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 instant (UTC unless it says)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{option} takes a date like 2026-12-01, not {text!r}.") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Recompute the SLA clocks of a tenant's tickets from their event logs under the "
        "current calendars and policies, and record on each ticket what moved."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug, e.g. acme.")
        parser.add_argument(
            "--since",
            default=None,
            help="Only tickets updated since this date (YYYY-MM-DD, UTC) or instant (ISO 8601).",
        )
        parser.add_argument(
            "--now",
            default=None,
            help=(
                "Replay as of this instant (ISO 8601, UTC unless it says) instead of the "
                "current time: which warnings and breaches have come due by then."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with the slug {options['tenant']!r}.")
        since = _instant("--since", options["since"]) if options["since"] else None
        now = _instant("--now", options["now"]) if options["now"] else None
        with tenant_context(tenant.pk):
            count, moved = services.tickets_recompute(tenant_id=tenant.pk, since=since, now=now)
        for item in moved:
            old_due = item.old_due.isoformat(timespec="minutes") if item.old_due else "-"
            new_due = item.new_due.isoformat(timespec="minutes") if item.new_due else "-"
            self.stdout.write(
                f"{item.ticket_key} {item.target}: {item.old_state} due {old_due} -> "
                f"{item.new_state} due {new_due}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{count} tickets replayed in {tenant.slug}; {len(moved)} clocks moved."
            )
        )
