"""Await a dialog instead of `exec()`: a nested event loop would stall the asyncio tasks."""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QDialog, QMessageBox, QWidget


async def run_dialog(dialog: QDialog) -> int:
    """Open `dialog` window-modal and return its result code once it is finished."""
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def finished(result: int) -> None:
        if not done.done():
            done.set_result(result)

    dialog.finished.connect(finished)  # dialogs are used once: no need to disconnect
    dialog.open()
    return await done


async def confirm(parent: QWidget | None, title: str, text: str, action: str = "OK") -> bool:
    """Ask a yes/no question whose yes button says what will happen (`action`)."""
    box = QMessageBox(
        QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, parent
    )
    yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    await run_dialog(box)
    return box.clickedButton() is yes


async def inform(parent: QWidget | None, title: str, text: str, *, error: bool = False) -> None:
    icon = QMessageBox.Icon.Warning if error else QMessageBox.Icon.Information
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    await run_dialog(box)


async def ask_unsaved(parent: QWidget | None, what: str) -> str:
    """'save', 'discard' or 'cancel' for edits about to be left behind by `what`."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Unsaved changes",
        f"The device has changes that are not saved. Save them before {what}?",
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    await run_dialog(box)
    button = box.standardButton(box.clickedButton())
    if button == QMessageBox.StandardButton.Save:
        return "save"
    if button == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"
