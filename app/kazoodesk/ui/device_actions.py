"""What the toolbar and context menu do to the selected devices, one or many.

Each action runs device by device, keeps going past a failure and reports every outcome: the
status bar for one device, a summary dialog when several were involved and one failed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from kazoodesk.device_templates import duplicate_device, listing_row
from kazoodesk.kazoo import Document, KazooError
from kazoodesk.ui.devices.device_records import Column
from kazoodesk.ui.dialogs.awaitable import confirm, inform, run_dialog
from kazoodesk.ui.dialogs.device_dialogs import NewDeviceDialog, NotifyDialog, QuickcallDialog

if TYPE_CHECKING:
    from kazoodesk.ui.main_window import MainWindow


def _name(window: MainWindow, device_id: str) -> str:
    row = window.devices.model.device_row(device_id)
    return str(row.get("name") or device_id) if row else device_id


async def _each(
    window: MainWindow,
    what: str,
    ids: list[str],
    act: Callable[[str], Awaitable[str]],
) -> list[str]:
    """Run `act` on every device; report the outcomes; return the ids that succeeded."""
    session = window.session
    if session is None or not ids:
        return []
    done, outcomes = [], []
    for device_id in ids:
        try:
            result = await act(device_id)
        except KazooError as exc:
            outcomes.append(f"{_name(window, device_id)}: failed — {exc}")
            continue
        done.append(device_id)
        outcomes.append(f"{_name(window, device_id)}: {result}")
    failed = len(ids) - len(done)
    summary = f"{what}: {len(done)} of {len(ids)} done" if len(ids) > 1 else outcomes[0]
    window.statusBar().showMessage(summary, 15_000)
    if failed and len(ids) > 1:
        await inform(window, what, "\n".join(outcomes), error=True)
    elif failed:
        await inform(window, what, outcomes[0], error=True)
    return done


async def _each_reported(
    window: MainWindow,
    what: str,
    ids: list[str],
    act: Callable[[str], Awaitable[str]],
    *,
    phone_answers: bool,
) -> list[str]:
    """`_each` for the actions on phones (sync, NOTIFY, flush): every device's outcome in an
    outcome window and the event log, with the phone's own answer where the server tells."""
    session, live = window.session, window.live
    if session is None or live is None or not ids:
        return []
    dialog = live.show_outcomes(what, [(i, _name(window, i)) for i in ids])
    done = []
    for device_id in ids:
        try:
            result = await act(device_id)
        except (KazooError, ValueError) as exc:
            dialog.request_done(device_id, False, f"failed — {exc}", False)
            live.note(device_id, f"{what}: failed — {exc}")
            continue
        done.append(device_id)
        dialog.request_done(device_id, True, result, phone_answers)
        live.note(device_id, f"{what}: {result}")
    window.statusBar().showMessage(f"{what}: {len(done)} of {len(ids)} done", 15_000)
    return done


async def new(window: MainWindow, device_type: str) -> None:
    """Ask what the type needs, then open the prepared device in the editor; Save creates it."""
    editor = window.editor
    if editor is None or not await editor.confirm_leave("starting a new device"):
        return
    dialog = NewDeviceDialog(device_type, window)
    if await run_dialog(dialog):
        editor.new_device(dialog.document)


async def duplicate(window: MainWindow, ids: list[str]) -> None:
    session, editor = window.session, window.editor
    if session is None or editor is None or len(ids) != 1:
        return
    if not await editor.confirm_leave("duplicating"):
        return
    try:
        original = await session.call(session.client.get_device, ids[0])
    except KazooError as exc:
        await inform(window, "Duplicate", f"Could not read the device: {exc}", error=True)
        return
    model = window.devices.model
    names = {str(model.index(row, Column.NAME).data()) for row in range(model.rowCount())}
    editor.new_device(duplicate_device(original.data, names))


async def delete(window: MainWindow, ids: list[str]) -> None:
    session = window.session
    if session is None or not ids:
        return
    names = ", ".join(_name(window, i) for i in ids[:5]) + (" …" if len(ids) > 5 else "")
    count = "this device" if len(ids) == 1 else f"these {len(ids)} devices"
    if not await confirm(window, "Delete", f"Delete {count}?\n\n{names}", "Delete"):
        return

    async def remove(device_id: str) -> str:
        await session.call(session.client.delete_device, device_id)
        return "deleted"

    deleted = await _each(window, "Delete", ids, remove)
    window.devices.model.remove_ids(deleted)
    if window.editor is not None and window.editor.device_id in deleted:
        window.editor.clear()


async def set_enabled(window: MainWindow, ids: list[str], enabled: bool) -> None:
    """PATCH only `enabled`, with the revision just read, so no other field is touched."""
    session = window.session
    if session is None:
        return

    async def switch(device_id: str) -> str:
        current = await session.call(session.client.get_device, device_id)
        stored = await session.call(
            session.client.patch_device, device_id, {"enabled": enabled}, current.revision
        )
        _updated(window, stored)
        return "enabled" if enabled else "disabled"

    await _each(window, "Enable" if enabled else "Disable", ids, switch)


async def sync(window: MainWindow, ids: list[str], reboot: bool) -> None:
    session = window.session
    if session is None:
        return

    async def send(device_id: str) -> str:
        return await session.call(session.client.sync_device, device_id, reboot)

    await _each_reported(window, "Reboot" if reboot else "Sync", ids, send, phone_answers=True)


async def notify(window: MainWindow, ids: list[str]) -> None:
    session = window.session
    if session is None or not ids:
        return
    dialog = NotifyDialog([_name(window, i) for i in ids], window)
    if not await run_dialog(dialog):
        return
    event = dialog.event_box.currentText().strip()
    body = dialog.body.toPlainText() or None
    content_type = dialog.content_type.text().strip() or None

    async def send(device_id: str) -> str:
        return await session.call(
            session.client.notify_device, device_id, event, body, content_type
        )

    await _each_reported(window, f"NOTIFY {event}", ids, send, phone_answers=True)


async def flush(window: MainWindow, ids: list[str]) -> None:
    """End the devices' registrations on the server (`DELETE /registrations/{username}`);
    the phones register again at their next refresh."""
    session = window.session
    if session is None:
        return

    async def drop(device_id: str) -> str:
        row = window.devices.model.device_row(device_id) or {}
        username = row.get("username")
        if not isinstance(username, str) or not username:
            raise ValueError("it has no SIP username to flush")
        await session.call(session.client.flush_registration, username)
        return f"registration of {username} flushed"

    await _each_reported(window, "Flush", ids, drop, phone_answers=False)


async def quickcall(window: MainWindow, ids: list[str]) -> None:
    session = window.session
    if session is None or len(ids) != 1:
        return
    dialog = QuickcallDialog(_name(window, ids[0]), window)
    if not await run_dialog(dialog):
        return
    number = dialog.number.text().replace(" ", "")

    async def call(device_id: str) -> str:
        await session.call(session.client.quickcall, device_id, number)
        return f"calling {number}"

    await _each(window, "Quickcall", ids, call)


def _updated(window: MainWindow, stored: Document) -> None:
    window.devices.model.upsert(listing_row(stored.data))
    if window.live is not None:
        window.live.note_saved(str(stored.data.get("id")), stored.revision)
    if window.editor is not None:
        window.editor.refresh_from(stored)
