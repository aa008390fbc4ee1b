"""Fixtures of the core's tests."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache. It outlives a test otherwise, and
    with it the API token throttle's failure counts: every test client calls
    from 127.0.0.1, so the bad-token tests together would lock out the
    token tests after them."""
    cache.clear()
