"""Settings for the test suite: PostgreSQL, eager Celery, fast hashing.

``make test`` starts PostgreSQL and Redis and exports ``DATABASE_URL`` and
``TEST_REDIS_URL``. Redis is off for the suite as a whole (embedded-style,
eager tasks); the tests that exercise Redis turn it on themselves.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault(
    "DATABASE_URL", "postgres://servicedesk:servicedesk@127.0.0.1:5432/servicedesk"
)
os.environ["REDIS_URL"] = ""

from servicedesk.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_URL = "http://testserver"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]  # noqa: F405
WHITENOISE_AUTOREFRESH = True  # no collectstatic in tests
# Uploaded files of the suite go to a scratch directory, not the project's var/.
MEDIA_ROOT = Path(tempfile.gettempdir()) / "servicedesk-test-media"
