"""Absolute links for whatever leaves the system: e-mails, API page links.

Built from ``settings.SITE_URL`` (an origin, checked at start-up), never
from the request: the ``Host`` header is the client's to choose, and
``ALLOWED_HOSTS`` does not look at its port.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse


def absolute_url(path: str) -> str:
    """``SITE_URL`` + ``path`` (an absolute path, as ``reverse()`` returns)."""
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"not an absolute path: {path!r}")
    return settings.SITE_URL.rstrip("/") + path


def absolute_reverse(viewname: str, *args: Any, **kwargs: Any) -> str:
    """``reverse(viewname, …)`` as an absolute link on ``SITE_URL``."""
    return absolute_url(reverse(viewname, *args, **kwargs))


def site_domain() -> str:
    """``SITE_URL``'s host and port, for templates written as
    ``{{ protocol }}://{{ domain }}/path``."""
    return urlsplit(settings.SITE_URL).netloc


def site_is_https() -> bool:
    return urlsplit(settings.SITE_URL).scheme == "https"
