"""The editor panel: one device in the schema-driven form, saved with its revision.

Saving sends the whole document with POST and `If-Match: "<loaded revision>"`, not a PATCH of
the changed fields: the form holds the complete document (unknown keys included), a POST makes
the server hold exactly what the user sees, and only a replace can remove a field the user
cleared (a Kazoo PATCH merges, so a removed key would survive).
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kazoodesk.kazoo import Document, KazooError, KazooUnavailable
from kazoodesk.live.tracker import HistoryPoint, Registration
from kazoodesk.schema.registry import SchemaRegistry
from kazoodesk.ui.dialogs.awaitable import ask_unsaved, run_dialog
from kazoodesk.ui.dialogs.conflict import ConflictDialog, Resolution
from kazoodesk.ui.editor.form import DeviceForm
from kazoodesk.ui.registrations.device_side import DeviceRegistrationSide
from kazoodesk.ui.session import Session
from kazoodesk.ui.tasks import spawn
from kazoodesk.ui.theme import tone


class DeviceEditor(QWidget):
    """Loads, shows and saves one device; guards unsaved edits."""

    saved = Signal(dict)  # the document as the server stored it
    opened = Signal(str)  # another device is shown (its id)

    def __init__(self, session: Session, registry: SchemaRegistry, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.registry = registry
        self.device_id: str | None = None  # None: a new device, created on save
        self.revision: str | None = None
        self._base: dict[str, Any] = {}
        self.title = QLabel("No device selected", self)
        self.title.setObjectName("editor.title")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        # a long name must not widen the panel: it is cut, and whole in the tooltip
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.message = QLabel("", self)
        self.message.setObjectName("editor.message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_button = QPushButton("Save", self)
        self.save_button.setObjectName("editor.save")
        self.save_button.setShortcut("Ctrl+S")
        self.revert_button = QPushButton("Revert", self)
        self.revert_button.setObjectName("editor.revert")
        # built a slice at a time on the event loop (a whole form at once would hold the UI
        # thread for over 100 ms); until then it keeps what it is given and shows it when built
        self.form = DeviceForm(registry, self, deferred=True)
        self._form_built = _start(self.form)
        self.form.dirtyChanged.connect(self._dirty_changed)
        self.save_button.clicked.connect(self._save_clicked)
        self.revert_button.clicked.connect(self.revert)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.revert_button)
        header.addWidget(self.save_button)
        self.server_notice = self._build_server_notice()
        self.side = DeviceRegistrationSide(self)
        self.body = QSplitter(self)
        self.body.setObjectName("editor.body")
        self.body.addWidget(self.form)
        self.body.addWidget(self.side)
        self.body.setStretchFactor(0, 3)
        self.body.setStretchFactor(1, 2)
        self.body.setCollapsible(0, False)
        self.side.setMinimumWidth(200)
        self.body.setSizes([10_000, 240])  # the form takes what the side panel leaves
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(self.server_notice)
        layout.addWidget(self.message)
        layout.addWidget(self.body, 1)
        self.empty_hint = QLabel(
            "Open a device from the list (Enter or double click), or add one with New.", self
        )
        self.empty_hint.setObjectName("editor.empty")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)
        layout.addWidget(self.empty_hint, 1)
        self._show_state()

    def _build_server_notice(self) -> QWidget:
        """The bar that says the open device changed (or went) on the server."""
        notice = QWidget(self)
        notice.setObjectName("editor.server_changed")
        self.server_notice_text = QLabel(notice)
        self.server_notice_text.setWordWrap(True)
        self.reload_button = QPushButton("Reload", notice)
        self.reload_button.setObjectName("editor.reload")
        self.reload_button.clicked.connect(lambda: spawn(self._reload_from_server()))
        row = QHBoxLayout(notice)
        row.setContentsMargins(6, 3, 6, 3)
        row.addWidget(self.server_notice_text, 1)
        row.addWidget(self.reload_button)
        notice.hide()
        return notice

    # ---- what is open ---------------------------------------------------------------------

    def has_document(self) -> bool:
        return self.device_id is not None or bool(self._base)

    def is_dirty(self) -> bool:
        return self.form.is_dirty() or (self.device_id is None and bool(self._base))

    def set_users(self, users: list[dict[str, Any]]) -> None:
        self.form.set_users(users)

    async def open_device(self, device_id: str) -> bool:
        """Show `device_id`; False when the user kept the current edits instead."""
        if device_id == self.device_id and not self.is_dirty():
            return True
        if not await self.confirm_leave("opening another device"):
            return False
        self._say(f"Loading {device_id}…")
        try:
            loaded = await self.session.call(self.session.client.get_device, device_id)
        except KazooError as exc:
            self._say(f"Could not load the device: {exc}", error=True)
            return False
        await self.form.build()  # done long before, unless the device is opened at once
        self._show(loaded.data, loaded.revision, device_id)
        self._say("")
        return True

    def new_device(self, document: dict[str, Any]) -> None:
        """Start editing a device that does not exist yet; Save creates it."""
        self._show({}, None, None)
        self.form.load(document)
        self._base = copy.deepcopy(document)
        self.title.setText(f"New device: {document.get('name', '')}")
        self._show_state()

    def refresh_from(self, stored: Document) -> None:
        """Show a newer revision of the open device saved elsewhere, unless it is being edited."""
        if stored.data.get("id") == self.device_id and not self.is_dirty():
            self._show(stored.data, stored.revision, self.device_id)

    def clear(self) -> None:
        self._show({}, None, None)
        self.title.setText("No device selected")

    # ---- what the server says meanwhile -------------------------------------------------------

    def server_changed(self, stored: Document | None) -> None:
        """The open device changed on the server (`stored`, its new version) or was deleted
        (None). Unedited, it is shown anew; with edits, a bar says so and offers a reload
        (saving would meet the conflict dialog)."""
        if stored is not None and stored.revision == self.revision:
            return  # our own save coming back
        if stored is not None and not self.is_dirty():
            self._show(stored.data, stored.revision, self.device_id)
            self._say("Updated: this device was changed on the server.")
            return
        if stored is None:
            text = "This device was deleted on the server. Saving would create it again."
        else:
            text = (
                "This device was changed on the server since you opened it. Reload to see"
                " the new version (your edits are dropped), or save to choose what to keep."
            )
        self.server_notice_text.setText(text)
        self.reload_button.setVisible(stored is not None)
        fill, ink = tone("notice-fill", self.palette()), tone("notice", self.palette())
        self.server_notice.setStyleSheet(f"background: {fill}; color: {ink};")
        self.server_notice.show()

    async def _reload_from_server(self) -> None:
        if self.device_id is None:
            return
        try:
            current = await self.session.call(self.session.client.get_device, self.device_id)
        except KazooError as exc:
            self._say(f"Could not reload the device: {exc}", error=True)
            return
        self._show(current.data, current.revision, self.device_id)
        self._say("Reloaded the server's version.")

    def show_registration(
        self,
        registrations: list[Registration],
        history: list[HistoryPoint],
        registered: bool,
        flapping: bool,
    ) -> None:
        """The open device's live registration state, in the side panel."""
        self.side.show_state(registrations, history, registered, flapping)

    async def confirm_leave(self, what: str) -> bool:
        """True when nothing unsaved is lost by `what` (saved or discarded on the user's word)."""
        if not self.is_dirty():
            return True
        answer = await ask_unsaved(self, what)
        if answer == "save":
            return await self.save()
        return answer == "discard"

    def revert(self) -> None:
        self.form.revert()
        self.form.set_errors({})
        self._say("")

    # ---- saving -----------------------------------------------------------------------------

    async def save(self) -> bool:
        document = self.form.document()
        local = self.form.validate()
        if local:
            self._say(f"{_count(local)} to fix before saving (see the marked fields).", error=True)
            return False
        return await self._send(document, self.revision)

    async def _send(self, document: dict[str, Any], revision: str | None) -> bool:
        client = self.session.client
        self._say("Saving…")
        try:
            if self.device_id is None:
                stored = await self.session.call(client.create_device, document)
            else:
                stored = await self.session.call(
                    client.save_device, self.device_id, document, revision
                )
        except KazooUnavailable as exc:
            self._say(f"Not saved, the server is unreachable ({exc}). Your edits are kept.", True)
            return False
        except KazooError as exc:
            if exc.status == 412 and self.device_id is not None:
                return await self._resolve_conflict(document)
            if exc.errors:
                self.form.set_errors(exc.errors)
            self._say(f"Not saved: {exc}", error=True)
            return False
        self._show(stored.data, stored.revision, str(stored.data.get("id", self.device_id)))
        self._say("Saved.")
        self.saved.emit(stored.data)
        return True

    async def _resolve_conflict(self, mine: dict[str, Any]) -> bool:
        assert self.device_id is not None
        try:
            current = await self.session.call(self.session.client.get_device, self.device_id)
        except KazooError as exc:
            self._say(f"Someone else changed the device, and it cannot be read: {exc}", True)
            return False
        dialog = ConflictDialog(self._base, mine, current.data, self)
        await run_dialog(dialog)
        resolution = dialog.resolution
        if resolution is Resolution.RELOAD:
            self._show(current.data, current.revision, self.device_id)
            self._say("Reloaded the server's version; your changes were dropped.")
            return False
        if resolution is Resolution.OVERWRITE:
            return await self._send(mine, current.revision)
        if resolution is Resolution.MERGE:
            return await self._send(dialog.merged_document(), current.revision)
        self._say("Not saved: the device changed on the server. Your edits are kept.", True)
        return False

    # ---- display -------------------------------------------------------------------------

    def _show(self, document: dict[str, Any], revision: str | None, device_id: str | None) -> None:
        changed = device_id != self.device_id
        if changed:
            self.side.clear()
        self.server_notice.hide()
        self.device_id, self.revision = device_id, revision
        self._base = copy.deepcopy(document)
        self.form.load(document)
        self.form.set_errors({})
        self.title.setText(str(document.get("name") or device_id or "No device selected"))
        self.title.setToolTip(self.title.text())
        self._show_state()
        if changed and device_id is not None:
            self.opened.emit(device_id)

    def _dirty_changed(self, _dirty: bool) -> None:
        self._show_state()

    def _show_state(self) -> None:
        dirty = self.is_dirty()
        self.save_button.setEnabled(dirty)
        self.revert_button.setEnabled(self.form.is_dirty())
        self.body.setVisible(self.has_document())
        self.side.setVisible(self.device_id is not None)
        self.empty_hint.setVisible(not self.has_document())

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {tone('error')};" if error else "")
        self.message.setVisible(bool(text))

    def _save_clicked(self) -> None:
        spawn(self.save())


def _start(form: DeviceForm) -> asyncio.Task[None] | None:
    """Build `form` in the background on the running loop; without one, at once."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        form.finish_build()
        return None
    return spawn(form.build())


def _count(errors: dict[str, list[str]]) -> str:
    total = sum(len(messages) for messages in errors.values())
    return "1 error" if total == 1 else f"{total} errors"
