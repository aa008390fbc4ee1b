"""The floor the ticket benchmark measures against: a Django view with no
logic at all (no auth, no tenancy, no validation) that lists or inserts rows
of one plain table, served by the same process, middleware and database as
the application. Only ``bench/bare_settings.py`` routes to it.

The table is made by ``bench/tickets.py`` with raw SQL (see ``TABLE_SQL``);
it belongs to no app, so no migration knows of it.

``/bench/bare/writes/`` is the floor under ticket creation: the same four
writes ``tickets.services.ticket_create`` makes, in one transaction and
nothing else: the per-tenant counter's ``UPDATE … RETURNING``, the ticket
row, its "created" event and an outbox row, into plain tables shaped and
indexed like the real ones (``WRITES_SQL``).
"""

from __future__ import annotations

import json
from typing import cast

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver, path
from django.views.decorators.csrf import csrf_exempt

import config.urls

TABLE = "bench_bare_item"
TABLE_SQL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    title varchar(200) NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""

WRITES_SQL = f"""
CREATE TABLE IF NOT EXISTS {TABLE}_counter (
    id bigserial PRIMARY KEY,
    tenant_id bigint NOT NULL,
    kind varchar(16) NOT NULL,
    last_number integer NOT NULL,
    UNIQUE (tenant_id, kind)
);
CREATE TABLE IF NOT EXISTS {TABLE}_ticket (
    id bigserial PRIMARY KEY,
    tenant_id bigint NOT NULL,
    kind varchar(16) NOT NULL,
    number integer NOT NULL,
    title varchar(200) NOT NULL,
    description text NOT NULL,
    status varchar(16) NOT NULL,
    priority smallint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, kind, number)
);
CREATE INDEX IF NOT EXISTS {TABLE}_ticket_queue
    ON {TABLE}_ticket (tenant_id, status, updated_at);
CREATE TABLE IF NOT EXISTS {TABLE}_event (
    id bigserial PRIMARY KEY,
    tenant_id bigint NOT NULL,
    ticket_id bigint NOT NULL REFERENCES {TABLE}_ticket (id) ON DELETE CASCADE,
    action varchar(32) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS {TABLE}_event_ticket
    ON {TABLE}_event (tenant_id, ticket_id, created_at);
CREATE TABLE IF NOT EXISTS {TABLE}_outbox (
    id bigserial PRIMARY KEY,
    tenant_id bigint NOT NULL,
    kind varchar(32) NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz NULL
);
CREATE INDEX IF NOT EXISTS {TABLE}_outbox_pending
    ON {TABLE}_outbox (created_at) WHERE delivered_at IS NULL;
INSERT INTO {TABLE}_counter (tenant_id, kind, last_number) VALUES (1, 'incident', 0)
    ON CONFLICT DO NOTHING;
"""  # noqa: S608 - the table names are ours
WRITES_TABLES = (f"{TABLE}_outbox", f"{TABLE}_event", f"{TABLE}_ticket")


@csrf_exempt
def bare_writes(request: HttpRequest) -> HttpResponse:
    """POST ``{"title": …, "description": …}``: the four writes of a ticket
    creation in one transaction (counter, ticket, event, outbox row)."""
    data = json.loads(request.body)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE}_counter SET last_number = last_number + 1 "  # noqa: S608
            "WHERE tenant_id = 1 AND kind = 'incident' RETURNING last_number"
        )
        number = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {TABLE}_ticket (tenant_id, kind, number, title, description, "  # noqa: S608
            "status, priority) VALUES (1, 'incident', %s, %s, %s, 'new', 3) RETURNING id",
            [number, str(data["title"])[:200], str(data.get("description", ""))],
        )
        ticket_id = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {TABLE}_event (tenant_id, ticket_id, action) "  # noqa: S608
            "VALUES (1, %s, 'created')",
            [ticket_id],
        )
        cursor.execute(
            f"INSERT INTO {TABLE}_outbox (tenant_id, kind, payload) "  # noqa: S608
            "VALUES (1, 'ticket.created', %s)",
            [json.dumps({"ticket_id": ticket_id, "number": number})],
        )
    return JsonResponse({"id": ticket_id, "number": number}, status=201)


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    """GET: the 50 newest rows. POST ``{"title": …, "body": …}``: one new row."""
    with connection.cursor() as cursor:
        if request.method == "POST":
            data = json.loads(request.body)
            cursor.execute(
                f"INSERT INTO {TABLE} (title, body) VALUES (%s, %s) RETURNING id",  # noqa: S608
                [str(data["title"])[:200], str(data.get("body", ""))],
            )
            return JsonResponse({"id": cursor.fetchone()[0]}, status=201)
        cursor.execute(
            f"SELECT id, title, body, created_at FROM {TABLE} ORDER BY id DESC LIMIT 50"  # noqa: S608
        )
        rows = [
            {"id": pk, "title": title, "body": body, "created_at": created_at}
            for pk, title, body, created_at in cursor.fetchall()
        ]
    return JsonResponse({"results": rows})


urlpatterns: list[URLPattern | URLResolver] = [
    *cast(list[URLPattern | URLResolver], config.urls.urlpatterns),
    path("bench/bare/", bare, name="bench_bare"),
    path("bench/bare/writes/", bare_writes, name="bench_bare_writes"),
]
