"""glibc allocator settings for a threaded server process (Linux; a no-op elsewhere).

Request threads each get a malloc arena of their own by default (up to 8 per core), and
large buffers — rendered documents of hundreds of KB — go to the heap once glibc's dynamic
mmap threshold has risen, so memory freed after a request stays mapped, fragmented over
the arenas. Two arenas and a fixed mmap threshold return large buffers to the system when
they are freed; bench/suite.py's memory phase measures the difference.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's starting value, kept fixed


def tune_for_threads() -> bool:
    """Apply the settings; False when this is not glibc. Call before request threads start."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = bool(mallopt(M_ARENA_MAX, ARENAS)) and bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    )
    if not ok:
        log.info("mallopt refused the allocator settings; running with glibc's defaults")
    return ok
