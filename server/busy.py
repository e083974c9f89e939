"""Requests and the services lock, which a long task (an import, the forget of a prolific person, a
delete-all, new settings at a million items) holds for seconds or minutes.

waitress serves with a fixed pool of threads. A request that waited on the lock for as long as the
task ran would keep its thread all that time; a few captures would take every thread, and then
/api/status and the dashboard, which never need the lock, would wait too: the extension would call
the server offline and the user would see nothing of what it is doing. More threads only move that
limit. So a request waits for the lock a bounded time, and while a long task runs only so many
requests wait at once; otherwise it is answered 503 `busy`, having done nothing, and the extension
keeps a capture so answered in its queue and sends it again. (Without a long task the holder is
another request, done in milliseconds, and captures arriving together are stored together: there
every one of them may wait.) The long task itself waits for nothing: it takes the lock as before,
and waiting requests give up rather than take it from it.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

# Under the extension's 5 s request timeout (extension/background.js) with room for the write:
# a capture answered "busy" is queued, one that timed out is queued too, but might have been stored.
LOCK_WAIT = 2.0
RETRY_AFTER = 5  # seconds, the Retry-After of a busy answer
# waitress's threads (`cloutlens serve`); a long task's waiters leave the rest free: one may be the task
# itself (an import or a forget runs in a request's thread), the others answer status, the
# dashboard's pages that need no lock, pairing and the busy answers themselves.
THREADS = 8
WAITERS = THREADS - 3


class Busy(Exception):
    """A request gave up waiting for the services lock; it did nothing."""

    def __init__(self, task: str | None):
        self.task = task
        doing = task or "other requests"
        super().__init__(f"the server is busy with {doing}; nothing was done. "
                         f"Send again in a few seconds")


class Turns:
    """The services lock as requests take it (`turn`), and what long task holds it (`doing`)."""

    def __init__(self, lock, wait: float = LOCK_WAIT, waiters: int = WAITERS):
        self.lock = lock
        self.wait = wait
        self._waiters = threading.BoundedSemaphore(waiters)
        self._tasks: list[str] = []

    @property
    def task(self) -> str | None:
        # The oldest: a task names itself once it holds the lock, or (an import, which takes it
        # in turns) before it waits for it, and then after the one holding it.
        try:
            return self._tasks[0]
        except IndexError:  # checked and read in one step: the task may end meanwhile
            return None

    @contextmanager
    def turn(self, wait: float | None = None):
        """The lock for a request, or Busy after `wait` seconds (default LOCK_WAIT). A thread that
        holds it already (a long task calling back into the services) gets it at once: it must
        never wait on itself."""
        if not self.lock.acquire(blocking=False):
            counted = self.task is not None
            if counted and not self._waiters.acquire(blocking=False):
                raise Busy(self.task)
            try:
                got = self.lock.acquire(timeout=self.wait if wait is None else wait)
            finally:
                if counted:
                    self._waiters.release()
            if not got:
                raise Busy(self.task)
        try:
            yield
        finally:
            self.lock.release()

    @contextmanager
    def doing(self, task: str):
        """Names a long task for the busy answers of requests that wait for it meanwhile."""
        self._tasks.append(task)
        try:
            yield
        finally:
            self._tasks.remove(task)
