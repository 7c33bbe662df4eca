"""Keep `None` alive under PySide6 6.12 on Python 3.11.

Every PySide6 6.12 call that returns nothing (`setText`, `setEnabled`, ...) hands back `None`
without taking a reference to it, and so does reading an empty QVariant (`currentData()` of
an item without data). Python 3.12 made `None` immortal, so there it does not matter; on 3.11
each such call drops `None`'s reference count by one, and after some tens of thousands of
calls the interpreter aborts with "none_dealloc: deallocating None". Opening a few dozen
devices in the editor is enough. Giving `None` a huge head start makes that unreachable.
This is process-wide and belongs with the app's Qt start-up; it lives here because the editor
was the first code to hit it.
"""

from __future__ import annotations

import ctypes
import sys

_HEAD_START = 1 << 40


def guard_none() -> None:
    if sys.version_info >= (3, 12) or getattr(sys, "_kazoodesk_none_guard", False):
        return
    refcount = ctypes.c_ssize_t.from_address(id(None))
    refcount.value += _HEAD_START
    sys._kazoodesk_none_guard = True  # type: ignore[attr-defined]
