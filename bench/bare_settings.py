"""Settings for the ticket benchmark's server: the production settings, plus
one bench-only URL (``bench/bare.py``) to measure a bare Django view against."""

from servicedesk.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare"
