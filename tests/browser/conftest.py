"""Playwright driving Debian's chromium against pytest-django's live server.

No browser is ever downloaded: the executable is the system one.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API keeps an event loop running in this thread; the ORM
# calls made by the test itself (seeding) are still plain synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


DEMO_PASSWORD = "demo-password"
DEMO_TICKETS = 30


def _take_snapshot() -> list[tuple[str, str]]:
    """Every table's rows, as JSON (tables without rows left out)."""
    from django.db import connection

    from servicedesk.rls import set_current_tenant
    from tests.conftest import model_tables, table_json

    set_current_tenant(None)  # the tenant policies let everything through
    with connection.cursor() as cursor:
        rows = [(table, table_json(cursor, table)) for table, _pk in model_tables()]
    return [(table, json_rows) for table, json_rows in rows if json_rows is not None]


def _restore_snapshot(snapshot: list[tuple[str, str]]) -> None:
    """Empty every table and put the snapshot's rows back, in one committed
    transaction, so the live server's thread sees the demo."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from servicedesk.rls import set_current_tenant
    from tests.conftest import insert_json, model_tables

    quote = connection.ops.quote_name
    set_current_tenant(None)
    with transaction.atomic(), connection.cursor() as cursor:
        # Foreign keys are DEFERRABLE INITIALLY DEFERRED (Django's way on
        # PostgreSQL), so the tables may be emptied and filled in any order.
        # DELETE, not TRUNCATE: the tables hold next to nothing after the last
        # test's flush, and TRUNCATE pays for new files per table. The keys
        # were drawn from the sequences when the demo was seeded, so rows the
        # test makes never collide with them.
        for table, _pk in model_tables():
            cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608 - the models' own tables
        for table, rows in snapshot:
            insert_json(cursor, table, rows)
    # The ids of the content types are the snapshot's again.
    ContentType.objects.clear_cache()


@pytest.fixture(scope="session")
def demo_snapshot(django_db_setup, django_db_blocker) -> list[tuple[str, str]]:
    """Seed the demo once per test process and keep its rows."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        try:
            call_command("seed_demo", tickets=DEMO_TICKETS, verbosity=0, stdout=io.StringIO())
            return _take_snapshot()
        except BaseException:
            # Leave no half-seeded tables behind for the tests that follow.
            call_command("flush", interactive=False, verbosity=0)
            raise


@pytest.fixture
def demo(transactional_db, demo_snapshot):
    """The seeded demo (acme, globex and their people), as `make run` shows it,
    with a smaller pile of tickets: enough to fill the pages. Seeded once per
    test process and put back from a copy before every test that asks for it;
    ``transactional_db`` empties the tables again afterwards."""
    _restore_snapshot(demo_snapshot)


def sign_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page, request):
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str, of: object = None) -> Path:
        """Save a full-page screenshot of ``of`` (default: the test's page)."""
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        (of or page).screenshot(path=str(path), full_page=True)
        return path

    return take


def csp_watch(page, violations: list[str]) -> None:
    """Collect every Content-Security-Policy violation the page reports."""
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
