"""The floor the ticket benchmark measures against: a Django view with no
logic at all (no auth, no tenancy, no validation) that lists or inserts rows
of one plain table, served by the same process, middleware and database as
the application. Only ``bench/bare_settings.py`` routes to it.

The table is made by ``bench/tickets.py`` with raw SQL (see ``TABLE_SQL``);
it belongs to no app, so no migration knows of it.
"""

from __future__ import annotations

import json
from typing import cast

from django.db import connection
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
]
