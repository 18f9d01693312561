"""Process-wide settings the `personae` command applies at start.

:func:`tune_allocator` keeps glibc from handing large freed buffers back to the kernel. By
default glibc serves allocations above a (moving) threshold from fresh ``mmap`` pages and
returns them on ``free``; the next allocation of the same size then page-faults on every 4 KB it
touches. A turn's memory search allocates a few such buffers (sign-bit distances, BM25 score
arrays, the embedder's activations): on 2 cores the page faults were ~1.5 ms of a turn's p95
at 100k memories (16.0 → 14.5 ms, benchmarks/README.md, P3). With the thresholds raised, freed
buffers stay in the heap and are reused; the process keeps up to :data:`TRIM_THRESHOLD` of freed
memory instead of returning it at once.

The command calls it; a program that uses personae as a library may call it too, or not. It
does nothing off glibc or with ``PERSONAE_MALLOC_TUNING=0`` (or off/false/no); any other value
than on/off words is a :class:`~personae.errors.ConfigError`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

from personae.environment import env_value

MMAP_THRESHOLD = 32 << 20  # allocations up to 32 MB come from the heap
TRIM_THRESHOLD = 128 << 20  # freed heap above this much is returned to the kernel
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters

_tuned = False


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True when they are set.

    Raises :class:`~personae.errors.ConfigError` when ``PERSONAE_MALLOC_TUNING`` is not an
    on/off word."""
    global _tuned
    if _tuned:
        return True
    if env_value("PERSONAE_MALLOC_TUNING") is False:
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1)
        ok = ok and bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1)
    except (OSError, AttributeError):
        return False
    _tuned = ok
    return ok
