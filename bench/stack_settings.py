"""Settings for the load and fault benchmarks' processes: the production
settings, with the file mail backend's folder taken from the environment so
that every mail the workers send can be counted by its Message-ID, and
optionally the broker on a Redis of its own (``BENCH_BROKER_URL``), apart
from the cache, so that the broker alone can be stopped."""

import os

from servicedesk.settings import *  # noqa: F403

EMAIL_FILE_PATH = os.environ.get("BENCH_MAIL_DIR", "")

if os.environ.get("BENCH_BROKER_URL"):
    CELERY_BROKER_URL = os.environ["BENCH_BROKER_URL"]
    CELERY_RESULT_BACKEND = os.environ["BENCH_BROKER_URL"]
