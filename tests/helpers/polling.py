"""`poll_until`: wait for something that sends no signal (another process's files, a device, a thread
that only changes a counter), by asking again and again until a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll_until(
    check: Callable[[], T | None],
    timeout: float,
    what: str | Callable[[], str],
    interval: float = 0.1,
) -> T:
    """`check()`'s first result that is neither None nor False, asked every `interval` s (0 for a check
    that blocks by itself, such as a read with a timeout). After `timeout` s raises AssertionError
    saying there was no `what` (a callable is asked then, so the message can say what was missing)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None and result is not False:
            return result
        if time.monotonic() > deadline:
            description = what() if callable(what) else what
            raise AssertionError(f"no {description} within {timeout:g} s")
        if interval > 0:
            time.sleep(interval)
