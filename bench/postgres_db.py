"""The bench scripts' own PostgreSQL database: its URL next to the server's,
plain connections to it, and its making and dropping. Shared by
``bench/tickets.py`` and ``bench/sla_sweep.py``."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2.extensions import connection as PgConnection


def database_urls(base: str, name: str, script: str) -> tuple[str, str]:
    """(the server's own database, the bench database ``name``) as URLs."""
    parts = urlsplit(base)
    if parts.scheme not in {"postgres", "postgresql"}:
        sys.exit(f"{script} needs PostgreSQL: pass a postgres:// URL (or set DATABASE_URL)")
    return base, urlunsplit(parts._replace(path=f"/{name}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def pg_connect(url: str) -> PgConnection:
    parts = urlsplit(url)
    conn = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname=database_name(url),
    )
    conn.autocommit = True
    return conn


def set_synchronous_commit(bench_url: str, *, on: bool) -> None:
    """Commit durability in the bench database (the test services turn it
    off; production has it on)."""
    bench = pg_connect(bench_url)
    try:
        with bench.cursor() as cursor:
            cursor.execute(
                f'ALTER ROLE CURRENT_USER IN DATABASE "{database_name(bench_url)}" '
                f"SET synchronous_commit = {'on' if on else 'off'}"
            )
    finally:
        bench.close()


def drop_database(base_url: str, bench_url: str) -> None:
    admin = pg_connect(base_url)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database_name(bench_url)}" WITH (FORCE)')
    finally:
        admin.close()
