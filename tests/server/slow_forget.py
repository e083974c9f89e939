"""`cloutlens serve` on a machine so slow that one step of forgetting someone takes SLOW_FORGET
seconds (default 15). Test-only: run as a script by tests/server/test_busy.py, never imported by
the server. A real forget of a prolific person holds the locks for seconds at a hundred thousand
items (1.1 s for 50k here) and for minutes at millions; a test cannot build such a store in its
time, yet it needs them held longer than its 10 s status timeout to tell a hang from a wait.

SLOW_STEP picks the step: `remove`, the removal of their items from the shards (the store's lock
and the services lock held), or `compact`, the scorer dropping their rows (the services lock only).
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scoring.engine import Scorer  # noqa: E402
from server import storage  # noqa: E402
from server.cli import main  # noqa: E402

SECONDS = float(os.environ.get("SLOW_FORGET", "15"))


def slowed(step, lock_of=None):
    def slow(self, *args):
        if lock_of is None:
            time.sleep(SECONDS)
            return step(self, *args)
        with lock_of(self):  # held as the real step holds it, while it rewrites every shard
            time.sleep(SECONDS)
            return step(self, *args)
    return slow


if os.environ.get("SLOW_STEP", "remove") == "remove":
    storage.Store.remove_author = slowed(storage.Store.remove_author, lambda store: store.lock)
else:
    Scorer.compact = slowed(Scorer.compact)
sys.argv[0] = "cloutlens"
sys.exit(main())
