"""Worker threads that stop cleanly on Ctrl-C, and byte ranges to give them.
Without NumPy: the trainer and the phrase counter both use it."""

from __future__ import annotations

import threading
import time


def run_in_threads(tasks, tick=None, on_interrupt=None, before=None) -> bool:
    """Run each (name, fn) of tasks in its own daemon thread and wait until
    all have returned, calling tick() every 0.1 s meanwhile (before() first,
    inside the same Ctrl-C guard). Returns False, or True after a Ctrl-C:
    then on_interrupt() is called (it should make the threads return) and
    every started thread is waited for, so none still writes shared state.
    An exception from before() or tick() (a progress callable, a log
    handler, a divergence check) does the same, then propagates.

    Completion is tracked with an Event set in each thread's `finally` (not
    Thread.join, which CPython <= 3.12 can report as finished once a
    KeyboardInterrupt has interrupted it)."""
    started: list[threading.Event] = []

    def signalling(fn, event):
        def run():
            try:
                fn()
            finally:
                event.set()

        return run

    try:
        if before is not None:
            before()
        for name, fn in tasks:
            event = threading.Event()
            threading.Thread(target=signalling(fn, event), daemon=True, name=name).start()
            started.append(event)
        for event in started:
            while not event.wait(0.1):
                if tick is not None:
                    tick()
    except BaseException as e:
        if on_interrupt is not None:
            on_interrupt()
        _wait_all(started, timeout=60.0)
        if isinstance(e, KeyboardInterrupt):
            return True
        raise
    return False


def _wait_all(events, timeout: float) -> None:
    """Wait until every event is set (or timeout s), riding out further Ctrl-C."""
    deadline = time.perf_counter() + timeout
    for event in events:
        while not event.is_set() and time.perf_counter() < deadline:
            try:
                event.wait(0.1)
            except KeyboardInterrupt:
                pass


def split_range(start: int, end: int, parts: int) -> list[int]:
    """parts + 1 boundaries cutting [start, end) into equal byte ranges."""
    return [start + (end - start) * k // parts for k in range(parts + 1)]
