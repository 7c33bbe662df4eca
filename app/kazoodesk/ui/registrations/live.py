"""`LiveRegistrations`: the feed of one session's registrations and every view that shows it.

The feed (kazoodesk.live.feed) fills a Qt-free tracker as events or polls come in; four times a
second the tracker's accumulated changes go to the views in one batch: the panel's table, the
event log, the chart, the device list's status column (and flapping marks), the open editor's
side panel, and the desktop notification of a watched device going offline. Whatever the
event rate, the UI thread does one short update per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from kazoodesk.live.tracker import (
    FLAP_THRESHOLD,
    Changes,
    Kind,
    LogEntry,
    RegistrationTracker,
)
from kazoodesk.ui.registrations.event_log import EventLogPanel
from kazoodesk.ui.registrations.outcomes import PHONE_KINDS, ActionOutcomes
from kazoodesk.ui.registrations.panel import RegistrationPanel
from kazoodesk.ui.registrations.registration_model import RegistrationTableModel
from kazoodesk.ui.tasks import spawn

if TYPE_CHECKING:
    from kazoodesk.live.feed import RegistrationFeed
    from kazoodesk.ui.main_window import MainWindow
    from kazoodesk.ui.session import Session

BATCH_MS = 250  # the views follow the tracker at this pace
CLOCK_MS = 1000  # countdowns, expiry, the chart's right edge


class LiveRegistrations(QObject):
    sourceChanged = Signal(str, str)  # live/polling/offline, detail
    deviceWentOffline = Signal(str, str)  # a watched device: id, name

    def __init__(self, window: MainWindow, clock: Callable[[], float] = time.time) -> None:
        super().__init__(window)
        self.window = window
        self.clock = clock
        self.tracker = RegistrationTracker(clock)
        self.model = RegistrationTableModel(
            self.tracker, self.device_name, self.owner_name, clock, self
        )
        self.panel = RegistrationPanel(self.model)
        self.log = EventLogPanel(self.device_name)
        self.feed: RegistrationFeed | None = None
        self._feed_task: asyncio.Task[None] | None = None
        self.poll_interval = _at_least_one(QSettings().value("registrations/poll_interval"), 5.0)
        self.watched: set[str] = set()
        self._watch_key = ""
        self._tray: QSystemTrayIcon | None = None
        self._outcomes: list[ActionOutcomes] = []
        self.panel.poll_interval.setValue(int(self.poll_interval))
        self.panel.pollIntervalChanged.connect(self.set_poll_interval)
        self.panel.actionRequested.connect(lambda name, ids: spawn(self.act(name, ids)))
        self.panel.deviceActivated.connect(self._open_device)
        self.panel.table.selectionModel().selectionChanged.connect(self._panel_selection)
        self._batch = QTimer(self)
        self._batch.setInterval(BATCH_MS)
        self._batch.timeout.connect(self.flush)
        self._tick = QTimer(self)
        self._tick.setInterval(CLOCK_MS)
        self._tick.timeout.connect(self._clock_tick)

    # ---- life ----------------------------------------------------------------------------

    async def start(self, session: Session) -> None:
        """Follow `session`'s working account (again, after a switch): a new tracker, feed."""
        from kazoodesk.kazoo.events import default_websocket_url
        from kazoodesk.live.feed import RegistrationFeed

        await self.stop()
        if session.closed:  # closed while the list loaded (a quit, another server)
            return
        threshold = int(
            _at_least_one(QSettings().value("registrations/flap_threshold"), FLAP_THRESHOLD)
        )
        self.tracker = RegistrationTracker(self.clock, flap_threshold=threshold)
        # the chart's session starts now (the first count, within a second, takes this point)
        self.tracker.activity.append((self.clock(), 0))
        self.model.tracker = self.tracker
        self.model.reset()
        self.log.model.clear()
        self.panel.chart.set_samples([])
        client = session.client
        self._watch_key = f"watched/{client.base_url}/{client.account_id}"
        self.watched = set(string_list(QSettings().value(self._watch_key, [])))
        self.feed = RegistrationFeed(
            client,
            self.tracker,
            websocket_url=_websocket_url(session) or default_websocket_url(client.base_url),
            poll_interval=self.poll_interval,
            call=session.call,
            on_source=lambda source, detail: self._source(source.value, detail),
            on_device=self._device_event,
            # device changes while the websocket was away were not heard: the list anew
            on_reconnect=self._reload_list,
        )
        task = spawn(self.feed.run())  # an error in it is reported like any other
        self._feed_task = task
        # the feed ends with its session's client, and with the window (its views go)
        session.closing.connect(self.close_feed)
        self.window.destroyed.connect(task.cancel)
        self._batch.start()
        self._tick.start()

    async def stop(self) -> None:
        task = self.close_feed()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._source("offline", "not connected")

    def close_feed(self) -> asyncio.Task[None] | None:
        """Stop following (the window is closing): the feed's task, cancelled."""
        self._batch.stop()
        self._tick.stop()
        task, self._feed_task, self.feed = self._feed_task, None, None
        if task is not None:
            task.cancel()
        return task

    # ---- batches -------------------------------------------------------------------------

    def flush(self) -> None:
        """The tracker's changes since the last batch, into every view."""
        changes = self.tracker.take_changes()
        if not changes:
            return
        self.model.apply(changes.updated, changes.removed)
        if changes.log:
            self.log.model.add_entries(changes.log)
            self._tell_outcomes(changes.log)
        if changes.activity:
            self.panel.chart.set_samples(self.tracker.activity)
        if changes.flapping:
            self.model.set_flapping(self.tracker.flapping)
            self.window.devices.model.set_flapping(self.tracker.flapping)
        if changes.devices:
            self.window.devices.model.set_registered(self.tracker.registered_devices())
            self._notify_offline(changes)
        self.refresh_editor(changes)

    def push_status(self) -> None:
        """The list's status column anew from the tracker (after the list was reloaded)."""
        if self.feed is not None:
            self.window.devices.model.set_registered(self.tracker.registered_devices())
            self.window.devices.model.set_flapping(self.tracker.flapping)
        self._names_changed()

    def _clock_tick(self) -> None:
        self.tracker.expire()
        self.flush()
        self.model.tick()
        self.panel.chart.set_now(self.clock())
        self.refresh_editor(None)

    def _reload_list(self) -> None:
        spawn(self.window.reload())

    # ---- names ---------------------------------------------------------------------------

    def device_name(self, device_id: str | None) -> str:
        return self.window.devices.model.device_name(device_id) if device_id else ""

    def owner_name(self, owner_id: str | None) -> str:
        return self.window.devices.model.owner_name(owner_id) if owner_id else ""

    def _names_changed(self) -> None:
        """Device or owner names may read otherwise now (the list was reloaded or a row
        changed): the views that show them ask again."""
        self.model.names_changed()
        self.log.refresh_names()

    # ---- the feed's news -------------------------------------------------------------------

    def _source(self, source: str, detail: str) -> None:
        self.model.set_stale(source == "offline")
        self.panel.set_source(source, detail)
        self.sourceChanged.emit(source, detail)

    def note_saved(self, device_id: str, revision: str | None) -> None:
        """A change this window made: its event from the server needs no reload."""
        if self.feed is not None:
            self.feed.note_revision(device_id, revision)

    def _device_event(self, action: str, device_id: str) -> None:
        spawn(self._reload_device(action, device_id))

    async def _reload_device(self, action: str, device_id: str) -> None:
        """A device changed on the server: the list row anew, and the editor told."""
        from kazoodesk.device_templates import listing_row
        from kazoodesk.kazoo import KazooError

        window, session = self.window, self.window.session
        editor = window.editor
        if action == "deleted" or session is None:
            window.devices.model.remove_ids([device_id])
            if editor is not None and editor.device_id == device_id:
                editor.server_changed(None)
            return
        try:
            document = await session.call(session.client.get_device, device_id)
        except KazooError:
            return  # gone again, or the server is away: the next event or reload tells
        window.devices.model.upsert(listing_row(document.data))
        self._names_changed()
        if editor is not None and editor.device_id == device_id:
            editor.server_changed(document)

    # ---- the editor's side panel -----------------------------------------------------------

    def refresh_editor(self, changes: Changes | None = None) -> None:
        """The open device's registration state in the editor's side panel (when `changes`
        touch it; always without)."""
        editor = self.window.editor
        device_id = editor.device_id if editor is not None else None
        if editor is None or device_id is None:
            return
        if changes is not None and not _touches(changes, device_id, self.tracker):
            return
        editor.show_registration(
            self.tracker.of_device(device_id),
            self.tracker.history(device_id),
            self.tracker.is_registered(device_id),
            device_id in self.tracker.flapping,
        )

    def _open_device(self, device_id: str) -> None:
        self.window.devices.select_ids([device_id])
        editor = self.window.editor
        if editor is not None:
            spawn(editor.open_device(device_id))

    def _panel_selection(self) -> None:
        ids = self.panel.selected_device_ids()
        self.panel.set_watched(bool(ids) and all(i in self.watched for i in ids))

    # ---- actions ---------------------------------------------------------------------------

    async def act(self, name: str, device_ids: list[str]) -> None:
        from kazoodesk.ui import device_actions

        if name == "sync":
            await device_actions.sync(self.window, device_ids, False)
        elif name == "reboot":
            await device_actions.sync(self.window, device_ids, True)
        elif name == "notify":
            await device_actions.notify(self.window, device_ids)
        elif name == "flush":
            await device_actions.flush(self.window, device_ids)
        elif name == "watch":
            self.toggle_watch(device_ids)
        elif name == "events":
            self.show_events(device_ids[0])

    def show_events(self, device_id: str) -> None:
        """The event log, showing one device's events."""
        self.log.set_device_filter(device_id)
        dock = self.window.docks.get("event_log")
        if dock is not None:
            dock.show()
            dock.raise_()

    def set_poll_interval(self, seconds: float) -> None:
        """How often to poll a server without registration events (kept for next time)."""
        self.poll_interval = max(1.0, float(seconds))
        QSettings().setValue("registrations/poll_interval", self.poll_interval)
        if self.feed is not None:
            self.feed.poll_interval = self.poll_interval
            self.feed.resync_soon()

    def note(self, device_id: str, detail: str) -> None:
        """An action's outcome for one device, into the log with the events."""
        row = self.window.devices.model.device_row(device_id) or {}
        username = str(row.get("username") or "")
        self.tracker.note(LogEntry(self.clock(), Kind.ACTION, username, device_id, detail=detail))

    def show_outcomes(self, what: str, devices: list[tuple[str, str]]) -> ActionOutcomes:
        """A window of the action's outcome per device, told of the phones' answers."""
        reported = self.feed is not None and self.feed.live
        dialog = ActionOutcomes(what, devices, reported, self.window)
        self._outcomes.append(dialog)
        dialog.destroyed.connect(lambda: self._outcomes.remove(dialog))
        dialog.show()
        return dialog

    def _tell_outcomes(self, entries: list[LogEntry]) -> None:
        for entry in entries:
            if entry.kind in PHONE_KINDS and entry.device_id:
                for dialog in self._outcomes:
                    dialog.phone_answered(entry.device_id, entry.kind, entry.detail)

    def toggle_watch(self, device_ids: list[str]) -> None:
        """Watch the devices (notify when they go offline), or stop when all are watched."""
        if all(i in self.watched for i in device_ids):
            self.watched.difference_update(device_ids)
        else:
            self.watched.update(device_ids)
        QSettings().setValue(self._watch_key, sorted(self.watched))
        self._panel_selection()

    def _notify_offline(self, changes: Changes) -> None:
        for device_id, up in changes.devices.items():
            if up or device_id not in self.watched:
                continue
            name = self.device_name(device_id) or device_id
            self.deviceWentOffline.emit(device_id, name)
            self._desktop_notification(
                "Device offline", f"{name} is no longer registered ({time.strftime('%H:%M:%S')})"
            )

    def _desktop_notification(self, title: str, text: str) -> None:
        """The system's notification where there is a tray; the status bar and a taskbar
        alert always."""
        self.window.statusBar().showMessage(f"{title}: {text}", 30_000)
        QApplication.alert(self.window)
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return
        if self._tray is None:
            self._tray = QSystemTrayIcon(QApplication.windowIcon(), self)
            self._tray.show()
        self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 10_000)


def _touches(changes: Changes, device_id: str, tracker: RegistrationTracker) -> bool:
    if device_id in changes.devices or changes.flapping:
        return True
    if any(entry.device_id == device_id for entry in changes.log):
        return True
    keys = {r.key for r in tracker.of_device(device_id)}
    return bool(keys & (changes.updated | changes.removed))


def _websocket_url(session: Session) -> str | None:
    """The event websocket the server names: the demo's READY info, or the login answer's
    `ui_config.api.kazoo_websocket.url` (blackhole's `url` setting, Kazoo 4.3.90+)."""
    info = getattr(session, "server_info", None) or {}
    if isinstance(info.get("websocket"), str):
        return str(info["websocket"])
    auth = session.client.auth
    details: Any = auth.details if auth is not None else {}
    for key in ("ui_config", "api", "kazoo_websocket", "url"):
        details = details.get(key) if isinstance(details, dict) else None
    return details if isinstance(details, str) and details.startswith(("ws://", "wss://")) else None


def string_list(value: Any) -> list[str]:
    """A QSettings list of strings (one item comes back as a plain string, none as nothing)."""
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _at_least_one(value: Any, default: float) -> float:
    """A numeric setting (at least 1), or `default` when unset or not a number."""
    try:
        return max(1.0, float(value))
    except (TypeError, ValueError):
        return default
