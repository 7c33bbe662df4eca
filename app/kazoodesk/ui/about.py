"""Help → About: what this KazooDesk is (version, Qt, Python, platform) and where it keeps
its files, with a button that copies it all for a bug report."""

from __future__ import annotations

import platform
from html import escape

import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from kazoodesk import __version__
from kazoodesk.config import AppDirs
from kazoodesk.resources import resource_path

ICON_SIZE = 64
DESCRIPTION = (
    "Desktop administration of the devices of a Kazoo 4.3 account, with an offline Kazoo"
    " simulator for its demo."
)


def versions() -> dict[str, str]:
    return {
        "Version": __version__,
        "Qt": qVersion(),
        "PySide6": PySide6.__version__,
        "Python": platform.python_version(),
        "Platform": platform.platform(),
    }


def folders(dirs: AppDirs) -> dict[str, str]:
    return {
        "Logs": str(dirs.log),
        "Settings": str(dirs.config),
        "Cache": str(dirs.cache),
        "Demo data": str(dirs.demo),
    }


class AboutDialog(QDialog):
    def __init__(self, dirs: AppDirs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About KazooDesk")
        self.setObjectName("about")
        self._versions, self._folders = versions(), folders(dirs)
        column = QVBoxLayout(self)
        column.addWidget(self._heading())
        column.addWidget(QLabel(DESCRIPTION, self, wordWrap=True))
        column.addLayout(self._form(self._versions, "about.", link=False))
        column.addLayout(self._form(self._folders, "about.dir.", link=True))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        copy = buttons.addButton("Copy details", QDialogButtonBox.ButtonRole.ActionRole)
        copy.setObjectName("about.copy")
        copy.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self.setMinimumWidth(520)

    def details(self) -> str:
        """Everything the dialog shows, as text for a bug report."""
        lines = [f"KazooDesk {__version__}"]
        lines += [f"{key}: {value}" for key, value in {**self._versions, **self._folders}.items()]
        return "\n".join(lines)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details())

    def _heading(self) -> QWidget:
        heading = QLabel(f"<h2>KazooDesk {__version__}</h2>", self)
        heading.setObjectName("about.title")
        icon = QIcon(str(resource_path("icons", "app", "kazoodesk.svg")))
        picture = QLabel(self)
        picture.setPixmap(icon.pixmap(ICON_SIZE, ICON_SIZE))
        row = QWidget(self)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(picture)
        layout.addWidget(heading, 1)
        return row

    def _form(self, values: dict[str, str], prefix: str, *, link: bool) -> QFormLayout:
        form = QFormLayout()
        for key, value in values.items():
            label = QLabel(self)
            label.setObjectName(prefix + key.lower().replace(" ", "_"))
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
            if link:  # a click opens the folder in the file manager
                url = QUrl.fromLocalFile(value).toString()
                label.setText(f'<a href="{url}">{escape(value)}</a>')
                label.setOpenExternalLinks(True)
            else:
                label.setText(escape(value))
            form.addRow(key, label)
        return form
