"""Process memory while serving: keep glibc from holding on to the model's freed working buffers.

Each question batch makes tensors of a new shape (batch size x tokens), megabytes each, that live for
one encode. glibc serves a block that large with mmap and returns it on free, but every such free
raises its mmap threshold (up to 32 MiB), so later blocks of that size come from the heap instead;
freed there between long-lived small objects, they stay resident. Under load that looked like a leak
(RSS +4.7% in 60 s with 16 clients, still rising); with the threshold fixed, large buffers always go
back to the system (+1.1%, flat). See docs/reliability.md, "Memory".
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
THRESHOLD_BYTES = 128 * 1024  # glibc's own starting value, kept fixed instead of rising


def bound_heap() -> bool:
    """Fix glibc's mmap and trim thresholds (setting them turns their rise off); returns whether it did.

    A no-op on other C libraries, and where the environment already sets either (MALLOC_MMAP_THRESHOLD_,
    MALLOC_TRIM_THRESHOLD_ or GLIBC_TUNABLES), which then wins.
    """
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    if any(name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")) or (
        "mmap_threshold" in tunables or "trim_threshold" in tunables
    ):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    applied = mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES) == 1 and mallopt(M_TRIM_THRESHOLD, THRESHOLD_BYTES) == 1
    if not applied:
        log.debug("mallopt refused the heap thresholds; the C library's defaults stay")
    return applied
