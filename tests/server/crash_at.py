"""`cloutlens serve` that kills itself (SIGKILL: no cleanup, no flush) the first time it reaches
a named step, so that a test can cut a long task at an exact point, as a power cut or an OOM
kill would. Test-only: run as a script by tests/server/test_crashes.py, never imported by the
server.

CRASH_AT names the step as `Class.method` of server.storage (e.g. `Store.forget_history`);
CRASH_AFTER=1 kills once the step has returned rather than before it runs.
"""
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server import storage  # noqa: E402
from server.cli import main  # noqa: E402

owner, name = os.environ["CRASH_AT"].split(".")
cls = getattr(storage, owner)
step = getattr(cls, name)
after = os.environ.get("CRASH_AFTER") == "1"


def crash(self, *args, **kwargs):
    if not after:
        os.kill(os.getpid(), signal.SIGKILL)
    out = step(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
    return out


setattr(cls, name, crash)
sys.argv[0] = "cloutlens"
sys.exit(main())
