"""Issue an API token from the command line (for an operator, or a first
integration before anyone has signed in). Prints only the secret."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from servicedesk import services
from servicedesk.models import API_SCOPES, Tenant, User


class Command(BaseCommand):
    help = (
        "Create an API token for a member of a tenant and print its secret (shown only "
        f"this once). Scopes: {', '.join(API_SCOPES)}."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug, e.g. acme.")
        parser.add_argument("--user", required=True, help="E-mail of the member it acts as.")
        parser.add_argument(
            "--scopes", required=True, help="Comma-separated, e.g. tickets:read,tickets:write."
        )
        parser.add_argument("--name", default="", help="What uses the token (default: CLI).")
        parser.add_argument(
            "--expires-days", type=int, default=None, help="Days until it expires (default: never)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with the slug {options['tenant']!r}.")
        user = User.objects.filter(email__iexact=options["user"].strip()).first()
        if user is None:
            raise CommandError(f"No user with the e-mail {options['user']!r}.")
        scopes = [scope.strip() for scope in options["scopes"].split(",") if scope.strip()]
        days = options["expires_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-days must be 1 or more.")
        try:
            _token, secret = services.api_token_create(
                tenant=tenant,
                actor=None,
                user=user,
                name=options["name"] or f"Command line, {timezone.now():%Y-%m-%d}",
                scopes=scopes,
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(_messages(exc))) from exc
        # Only the secret on stdout, so that `$(manage.py create_api_token …)` works.
        self.stdout.write(secret)


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            f"{field}: {message}"
            for field, errors in error.message_dict.items()
            for message in errors
        ]
    return list(error.messages)
