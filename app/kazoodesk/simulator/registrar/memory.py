"""Giving freed memory back to the operating system after the location table grows or shrinks.

Growing a table of 100,000 bindings reallocates large dict and set tables many times; glibc
keeps the freed blocks inside its heap (they are in the middle, so `free` cannot shrink it)
and the process's RSS stays at its high-water mark, about 80 MB above what is in use. glibc's
`malloc_trim(0)` hands every free page back (it takes a few milliseconds), so the registrar
calls it after the table has changed by many bindings, at most every `interval_s`. Elsewhere
(macOS, Windows, musl) there is no such call and `MemoryTrimmer` does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)


def _glibc_trim() -> Callable[[], object] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


class MemoryTrimmer:
    """`check(size, now)` trims once `size` (the binding count) has moved by `min_change`
    since the last trim and `interval_s` has passed; it is meant for a periodic task."""

    def __init__(
        self,
        min_change: int = 2_000,
        interval_s: float = 1.0,
        trim: Callable[[], object] | None = None,
    ) -> None:
        self.min_change = min_change
        self.interval_s = interval_s
        self._trim = trim if trim is not None else _glibc_trim()
        self._size = 0
        self._at = float("-inf")
        self.trims = 0

    @property
    def available(self) -> bool:
        return self._trim is not None

    def check(self, size: int, now: float) -> bool:
        if self._trim is None or now - self._at < self.interval_s:
            return False
        if abs(size - self._size) < self.min_change:
            return False
        self._size, self._at = size, now
        try:
            self._trim()
        except OSError:  # pragma: no cover - the call itself does not fail
            log.debug("malloc_trim failed", exc_info=True)
            return False
        self.trims += 1
        return True
