"""Start coroutines from Qt slots without losing them or their errors.

asyncio is imported on first use, not with this module: the window imports it before its
first paint, which comes before the event loop exists (see kazoodesk.ui.app).
"""

from __future__ import annotations

import sys
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

_running: set[asyncio.Task[Any]] = set()


def spawn(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """Run `coro` on the running loop; keep it alive until done; report what it raises."""
    import asyncio

    task = asyncio.get_event_loop().create_task(coro)
    _running.add(task)
    task.add_done_callback(_finished)
    return task


def _finished(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        sys.excepthook(type(exc), exc, exc.__traceback__)


async def cancel_all() -> None:
    """Cancel what is still running (on quit) and wait for it to end."""
    import asyncio

    tasks = list(_running)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
