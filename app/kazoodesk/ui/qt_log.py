"""Qt's own messages (warnings of its platform plugins, styles, painting) into the app's log.

The handler passes each message on to the one installed before it (pytest-qt's capture in
tests), or prints it on stderr as Qt's default handler would, so what was visible stays so.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QMessageLogContext, QtMsgType, qFormatLogMessage, qInstallMessageHandler

from kazoodesk.app_log import ON_STDERR

LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}

Handler = Callable[[QtMsgType, QMessageLogContext, str], Any]


class QtLogRoute:
    """Installed by `route_qt_messages`; `uninstall()` puts the previous handler back."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.previous: Handler | None = None

    def install(self) -> None:
        self.previous = qInstallMessageHandler(self.handle)

    def uninstall(self) -> None:
        qInstallMessageHandler(self.previous)

    def handle(self, kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        level = LEVELS.get(kind, logging.WARNING)
        category = context.category or "default"
        # printed on stderr below: logging's own stderr output (or its lastResort) would repeat it
        if self.logger.hasHandlers():
            self.logger.log(level, "%s: %s", category, message, extra={ON_STDERR: True})
        if self.previous is not None:
            self.previous(kind, context, message)
        else:
            print(qFormatLogMessage(kind, context, message), file=sys.stderr, flush=True)


def route_qt_messages(logger: logging.Logger | None = None) -> QtLogRoute:
    """From now on, Qt's messages also go to `logger` (`qt` by default)."""
    route = QtLogRoute(logger or logging.getLogger("qt"))
    route.install()
    return route
