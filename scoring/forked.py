"""Work done by a forked child into a temporary file, for the offline scorer's second core.

The child shares the parent's memory as it was at the fork (copy on write) and writes what it
makes to a temporary file rather than a pipe, which would stall it while the parent is busy with
its own share. The parent takes the file once the child is done, or learns that it failed and
does the child's share itself: a failed child never changes a result, only the time.
"""
from __future__ import annotations

import os
import tempfile


class Forked:
    """Runs work(out) in a forked child, out a binary temporary file. Use as a context manager:
    leaving it ends a child still running."""

    def __init__(self, work):
        self.out = tempfile.TemporaryFile()
        self.pid = os.fork()
        if self.pid == 0:
            code = 1
            try:
                work(self.out)
                self.out.flush()
                code = 0
            finally:
                os._exit(code)  # never the parent's exit handlers, buffers or `finally`s

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.pid is not None:
            try:
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.pid = None
        self.out.close()

    def result(self):
        """The child's file from its start once it has finished, or None if it failed."""
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        if os.waitstatus_to_exitcode(status) != 0:
            return None
        self.out.seek(0)
        return self.out
