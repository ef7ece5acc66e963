"""Waiting on a condition, never on a clock: a busy machine makes a test slower, not red."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], object], limit: float = 120.0, every: float = 0.02) -> bool:
    """Poll ``condition`` until it is true (True) or ``limit`` seconds pass (False): a bound, not a measurement."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True
