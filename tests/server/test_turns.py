"""Requests and a long task on the services lock, in one process (server/busy.py): a bounded
wait, then a 503 "busy" that did nothing; the real server's threads are in test_busy.py."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager, nullcontext

import pytest

from helpers import capture, comment_item, post_item
from server.busy import Busy, Turns
from server.contract import validate_capture


@contextmanager
def held(lock, naming=None):
    """The lock held by another thread until the block ends; `naming` (a context, as a long
    task's `doing`) is entered while it is held."""
    taken, done = threading.Event(), threading.Event()

    def hold():
        with lock, naming or nullcontext():
            taken.set()
            done.wait(30)
    t = threading.Thread(target=hold)
    t.start()
    taken.wait(5)
    try:
        yield
    finally:
        done.set()
        t.join(5)


def test_the_holder_takes_its_turn_at_once_and_a_waiter_too_many_is_busy_at_once():
    lock = threading.RLock()
    turns = Turns(lock, wait=30, waiters=0)
    with lock, turns.turn():  # the holder never waits on itself, nor for a waiter's place
        pass
    with held(lock), turns.doing("an import"):
        with pytest.raises(Busy):
            with turns.turn():  # no place to wait for a long task: answered at once, not after 30 s
                pass


def test_busy_names_the_task_that_holds_the_lock_first():
    turns = Turns(threading.RLock())
    assert turns.task is None
    with turns.doing("forgetting blog.example:anna"), turns.doing("an import"):
        assert turns.task == "forgetting blog.example:anna"
        assert "busy with forgetting blog.example:anna" in str(Busy(turns.task))
    assert turns.task is None


def test_a_capture_answered_busy_stored_nothing_and_status_says_what_is_busy(app, client, auth):
    s = app.extensions["cloutlens"]
    s.turns.wait = 0.2
    with held(s.lock, s.turns.doing("an import")):
        r = client.post("/api/capture", json=capture([post_item(), comment_item("c1", "anna")]), headers=auth)
        assert r.status_code == 503
        assert r.get_json()["error"] == "busy" and r.get_json()["task"] == "an import"
        assert "busy with an import" in r.get_json()["message"] and r.headers["Retry-After"] == "5"
        status = client.get("/api/status", headers=auth).get_json()
        assert status["busy"] == "an import" and status["items"] == 0
        assert client.get("/api/scores?id=blog.example:anna", headers=auth).status_code == 503
        page = client.get("/")
        assert page.status_code == 503 and b"busy with an import" in page.data and page.headers["Refresh"]
    assert s.store.count_items() == 0 and not s._queue
    assert client.get("/api/status", headers=auth).get_json()["busy"] is None
    r = client.post("/api/capture", json=capture([post_item(), comment_item("c1", "anna")]), headers=auth)
    assert r.status_code == 200 and r.get_json()["stored"]["added"] == 2


def test_a_capture_a_writer_has_taken_is_answered_with_that_write_not_busy(app, monkeypatch):
    """A capture that gives up waiting may be in the group another capture's thread is storing:
    then it is stored, and must not be answered "nothing was done"."""
    s = app.extensions["cloutlens"]
    s.turns.wait = 0.05
    real = s._write_queued
    writing = threading.Event()

    def write_both_then_hold():
        writing.set()
        while len(s._queue) < 2:
            time.sleep(0.005)
        real()
        time.sleep(0.5)  # the lock kept after the write: ten times the other capture's wait
    monkeypatch.setattr(s, "_write_queued", write_both_then_hold)
    first = {}
    writer = threading.Thread(target=lambda: first.update(got=s.capture(validate_capture(capture([post_item()])))))
    writer.start()
    assert writing.wait(5)
    got = s.capture(validate_capture(capture([comment_item("c1", "anna")])))
    writer.join(5)
    assert got["added"] == 1 and first["got"]["added"] == 1 and s.store.count_items() == 2


def test_a_capture_a_writer_has_taken_waits_for_that_write_without_spinning(tmp_path, monkeypatch):
    """While a long task is named and every waiting place is taken, a capture's turn is refused at
    once; if a writer has already taken the capture into its group it cannot be withdrawn, and it
    asked again at once, round after round, for as long as the writer held the lock (332,277
    rounds in a second, a core burnt against the GIL the writer needs). It waits for that write."""
    from server.app import Services
    from server.contract import normalize_item
    from server.storage import Store

    s = Services(Store(tmp_path / "data"))
    s.turns = Turns(s.lock, wait=2.0, waiters=1)
    rounds = {"n": 0}
    withdraw = s._withdraw

    def counted(entry):
        rounds["n"] += 1
        return withdraw(entry)
    monkeypatch.setattr(s, "_withdraw", counted)
    add = s.store.add_batches
    taken = threading.Event()

    def slow_add(batches):
        taken.set()  # the writer has the group, the other capture's entry in it
        time.sleep(1.0)
        return add(batches)
    monkeypatch.setattr(s.store, "add_batches", slow_add)

    def writer():
        with s.lock:
            has_lock.set()
            while not s._queue:
                time.sleep(0.001)
            s._write_queued()

    def hold_the_waiting_place():
        try:
            with s.turns.turn(5.0):
                pass
        except Busy:
            pass

    item = normalize_item(comment_item("c1", "anna", parent=None), "blog.example")
    has_lock = threading.Event()
    with s.turns.doing("an import"):
        w = threading.Thread(target=writer)
        w.start()
        has_lock.wait(5)
        other = threading.Thread(target=hold_the_waiting_place)
        other.start()
        time.sleep(0.05)
        turn, first = s.turns.turn, []

        def turn_once_taken(wait=None):  # the writer takes the queue just before this capture asks
            if not first:
                first.append(1)
                taken.wait(5)
            return turn(wait)
        s.turns.turn = turn_once_taken
        got = s.capture({"items": [item]})
        w.join(5)
        other.join(5)
    s.close()
    assert got["added"] == 1
    assert rounds["n"] < 10, f"{rounds['n']} rounds while the writer held the lock"
