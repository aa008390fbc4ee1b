"""The same ranking cases on SQLite FTS5 (the embedded default), run in a
child process on a fresh SQLite file: see ``tests/search/sqlite_ranking.py``."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.processes import ROOT, child_env
from tests.search import corpus


def test_sqlite_fts5_ranks_and_tolerates_typos_like_postgresql(tmp_path):
    env = child_env(
        drop={"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}, VAR_DIR=str(tmp_path / "var")
    )
    done = subprocess.run(
        # The child starts as this process did (``-S`` included, when the
        # suite runs without the site hooks).
        [sys.executable, *(["-S"] if sys.flags.no_site else []), "tests/search/sqlite_ranking.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    corpus.assert_ranking(found["cases"])
    hostile = found["hostile"]
    assert hostile["&|!():*"] == [[], "Type a word to search for."]
    assert hostile['"vpn'][0]
    assert hostile["aaaaaaaaaaaaaaaaaaaa"][1] == "Only the start of a long search was used."
    assert hostile["-vpn"][1].startswith("Add a word")
    assert hostile["col:vpn"] == [[], ""]
