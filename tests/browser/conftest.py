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


@pytest.fixture
def demo(transactional_db):
    """The seeded demo (acme, globex and their people), as `make run` shows it,
    with a smaller pile of tickets: enough to fill the pages, quick to build
    for every test."""
    from django.core.management import call_command

    call_command("seed_demo", tickets=30, verbosity=0, stdout=io.StringIO())


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
