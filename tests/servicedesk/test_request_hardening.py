"""Guessing API tokens is throttled per client address; signed-in pages are
not cached; the bad-Host page carries the security headers."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from servicedesk.models import Role

ME = "/api/v1/me/"
WRONG = "Bearer sd_" + "a" * 43


def call(secret_header: str, address: str = "203.0.113.7"):
    return Client(HTTP_AUTHORIZATION=secret_header, REMOTE_ADDR=address).get(ME)


# --- failed token authentication ----------------------------------------------------


def test_forty_wrong_tokens_in_a_row_meet_a_429(world, caplog):
    statuses = [call(WRONG).status_code for _ in range(40)]
    assert statuses[:20] == [401] * 20
    assert set(statuses[20:]) == {429}
    refused = call(WRONG)
    assert refused.json()["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 600
    assert any("failed API token attempts" in r.getMessage() for r in caplog.records)


def test_a_throttled_address_is_refused_even_with_a_good_token(world):
    for _ in range(20):
        call(WRONG)
    assert call(f"Bearer {world.api_token.secret}").status_code == 429


def test_other_addresses_and_sessions_carry_on(world, login):
    for _ in range(25):
        call(WRONG)
    assert call(f"Bearer {world.api_token.secret}", address="198.51.100.1").status_code == 200
    assert call(WRONG, address="198.51.100.1").status_code == 401
    session = login(world.user(Role.AGENT))
    assert session.get(ME, REMOTE_ADDR="203.0.113.7").status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer garbage", WRONG, "Bearer sd_\x00" + "a" * 42],
)
def test_every_kind_of_bad_bearer_header_counts(world, settings, header):
    settings.API_TOKEN_FAILURE_LIMIT = 3
    assert [call(header).status_code for _ in range(4)] == [401, 401, 401, 429]


def test_good_tokens_and_other_schemes_count_nothing(world, settings):
    settings.API_TOKEN_FAILURE_LIMIT = 3
    for _ in range(10):
        assert call(f"Bearer {world.api_token.secret}").status_code == 200
        assert call("Basic dXNlcjpwYXNz").status_code == 401
    assert call(WRONG).status_code == 401


def test_the_limit_and_window_are_settings(world, settings, monkeypatch):
    settings.API_TOKEN_FAILURE_LIMIT = 2
    settings.API_TOKEN_FAILURE_WINDOW = timedelta(minutes=1)
    assert [call(WRONG).status_code for _ in range(3)] == [401, 401, 429]
    assert 0 < int(call(WRONG)["Retry-After"]) <= 60
    cache.clear()  # what the window's end does
    assert call(f"Bearer {world.api_token.secret}").status_code == 200


def test_a_limit_of_zero_turns_the_throttle_off(world, settings):
    settings.API_TOKEN_FAILURE_LIMIT = 0
    assert {call(WRONG).status_code for _ in range(30)} == {401}


def test_the_address_behind_trusted_proxies_is_counted(world, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    settings.API_TOKEN_FAILURE_LIMIT = 2

    def via_proxy(client_address: str):
        return Client(
            HTTP_AUTHORIZATION=WRONG,
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"{client_address}, 10.0.0.2",
        ).get(ME)

    assert [via_proxy("203.0.113.9").status_code for _ in range(3)] == [401, 401, 429]
    assert via_proxy("203.0.113.10").status_code == 401


# --- caching of private pages ---------------------------------------------------------


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_signed_in_pages_are_not_stored(world, login):
    client = login(world.user(Role.ADMIN))
    slug = world.tenant.slug
    for url in (
        reverse("desk", args=[slug]),
        reverse("tenant_admin:members", args=[slug]),
        reverse("profile"),
        "/",
    ):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert no_store(response), url
        assert "private" in response["Cache-Control"], url


def test_api_answers_are_not_stored(world):
    response = call(f"Bearer {world.api_token.secret}")
    assert response.status_code == 200
    assert no_store(response)


def test_anonymous_pages_are_left_alone(db, client):
    # (The sign-in page is never_cache of its own.)
    reset_page = client.get(reverse("password_reset"))
    assert reset_page.status_code == 200
    assert not no_store(reset_page)


def test_a_view_that_chose_its_caching_keeps_it(world, login):
    health = login(world.user(Role.ADMIN)).get("/healthz")
    assert health.status_code == 200
    # never_cache on the health view: its own header, untouched.
    assert health["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_static_files_are_served_before_the_header_is_added(settings):
    # WhiteNoise answers for static files from further out in the chain.
    order = settings.MIDDLEWARE
    assert order.index("whitenoise.middleware.WhiteNoiseMiddleware") < order.index(
        "servicedesk.middleware.PrivateResponseMiddleware"
    )


# --- the bad-Host page ----------------------------------------------------------------


def test_the_bad_host_page_carries_the_security_headers(db, caplog):
    caplog.set_level(logging.CRITICAL, logger="django.security.DisallowedHost")
    response = Client(HTTP_HOST="evil.example").get(reverse("login"))
    assert response.status_code == 400
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_ordinary_pages_keep_the_security_headers(db, client):
    response = client.get(reverse("login"))
    assert response["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response["Content-Security-Policy"]
