"""Settings for the test suite: PostgreSQL, eager Celery, fast hashing.

``make test`` starts PostgreSQL and Redis and exports ``DATABASE_URL`` and
``TEST_REDIS_URL``. Redis is off for the suite as a whole (embedded-style,
eager tasks); the tests that exercise Redis turn it on themselves.

Under pytest-xdist every worker gets its own of what the suite writes to:
pytest-django suffixes the test database (``test_<name>_gw0``), and here the
worker's number moves the Redis database number up by that much and gives it
its own media directory.
"""

import os
import re
import tempfile
from pathlib import Path

os.environ.setdefault(
    "DATABASE_URL", "postgres://servicedesk:servicedesk@127.0.0.1:5432/servicedesk"
)
os.environ["REDIS_URL"] = ""

from servicedesk.settings import *  # noqa: F403

# "gw3" under pytest-xdist, "" in a plain run.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_NUMBER = int(XDIST_WORKER[2:]) if XDIST_WORKER.startswith("gw") else 0


def _worker_redis_url(url: str, worker: int) -> str:
    """``url`` with its database number moved up by ``worker``; Redis has
    databases 0-15 unless configured otherwise."""
    match = re.fullmatch(r"(?P<server>redis://[^/]+)(?:/(?P<db>\d+))?", url)
    if match is None:
        raise ValueError(f"TEST_REDIS_URL must look like redis://host:port/db, not {url!r}")
    number = int(match["db"] or 0) + worker
    if number > 15:
        raise ValueError(
            f"TEST_REDIS_URL {url!r} leaves no Redis database for xdist worker {worker}: "
            "start from a lower database number"
        )
    return f"{match['server']}/{number}"


PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_URL = "http://testserver"
TEST_REDIS_URL = _worker_redis_url(
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/8"), WORKER_NUMBER
)
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]  # noqa: F405
WHITENOISE_AUTOREFRESH = True  # no collectstatic in tests
# Uploaded files of the suite go to a scratch directory, not the project's var/.
MEDIA_ROOT = Path(tempfile.gettempdir()) / "-".join(
    filter(None, ["servicedesk-test-media", XDIST_WORKER])
)
