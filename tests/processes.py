"""Running manage.py and friends as separate processes from tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Set by the suite for itself (the browser tests need the async guard off);
# a child process must start from the environment a user would have.
SUITE_ONLY = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def child_env(*, drop: set[str] = frozenset(), **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SUITE_ONLY | drop}
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str], check: bool = True, timeout: int = 300):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )
