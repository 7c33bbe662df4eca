"""One demo window per demo store: a second `kazoodesk` start on the same store hands over to
the first, which brings its window to the front, and ends.

Two demo processes on one store would each run a simulator on it (and its demo phones): the
second start is almost always someone looking for the window they already have. Only demo
mode takes part: windows on remote servers may be many, and `--smoke-test` is a health check
that must run (and take its own screenshot) whatever else runs (see kazoodesk.ui.app).

Who is first is decided by a lock file in the store (QLockFile: a lock whose process is gone,
after a crash, is taken over). The first then listens on a local socket named after the
store; a socket file a crash left behind is removed before listening. QtNetwork (~8 ms of
imports) is loaded only once the window is painted, or by a second start.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLockFile, QObject, Signal

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

LOCK_FILE = "kazoodesk-instance.lock"
ACTIVATE = b"activate\n"
ACTIVATED = b"ok\n"
CONNECT_WAIT_S = 5.0  # the first may hold the lock but not listen yet (still starting)
CONNECT_RETRY_S = 0.1
ANSWER_TIMEOUT_MS = 3000
log = logging.getLogger(__name__)


def instance_name(store: Path) -> str:
    """The local socket's name: one per store, the same for every process of the user."""
    digest = hashlib.sha256(str(store.absolute()).encode()).hexdigest()[:16]
    return f"kazoodesk-demo-{digest}"


class SingleInstance(QObject):
    """The claim of one process on a demo store (`claim`), and its answer to later starts
    (`listen`, then `activationRequested`); or a later start's request (`hand_over`)."""

    activationRequested = Signal()

    def __init__(self, store: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.name = instance_name(store)
        self._lock: QLockFile | None = None
        self._server: QLocalServer | None = None

    def claim(self) -> bool:
        """True when this process may run the demo on the store: it is the only one, or the
        lock cannot be made (the demo then says what is wrong with the store); False when
        another process holds it."""
        try:
            self.store.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("no single-instance lock in %s: %s", self.store, exc)
            return True
        lock = QLockFile(str(self.store / LOCK_FILE))
        lock.setStaleLockTime(0)  # stale only when its process is gone, however old
        if lock.tryLock(0):
            self._lock = lock
            return True
        if lock.error() == QLockFile.LockError.LockFailedError:
            return False
        log.warning("no single-instance lock in %s: error %s", self.store, lock.error())
        return True

    def listen(self) -> bool:
        """Answer later starts from now on (after `claim`); False if the socket cannot be had."""
        from PySide6.QtNetwork import QLocalServer

        if self._lock is None or self._server is not None:
            return self._server is not None
        QLocalServer.removeServer(self.name)  # what a crashed first left; we hold the lock
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            log.warning("a second start cannot reach this one: %s", server.errorString())
            return False
        server.newConnection.connect(self._accept)
        self._server = server
        return True

    def hand_over(self) -> str | None:
        """Ask the process holding the store to show its window: None once it has, else why
        not. Blocking, for a start that has no window (nor loop) of its own."""
        from PySide6.QtNetwork import QLocalSocket

        socket = QLocalSocket()
        deadline = time.monotonic() + CONNECT_WAIT_S
        while True:
            socket.connectToServer(self.name)
            if socket.waitForConnected(int(CONNECT_WAIT_S * 1000)):
                break
            if time.monotonic() >= deadline:
                return f"it does not answer ({socket.errorString()})"
            time.sleep(CONNECT_RETRY_S)
        socket.write(ACTIVATE)
        socket.waitForBytesWritten(ANSWER_TIMEOUT_MS)
        answer = _read_line(socket, ANSWER_TIMEOUT_MS)
        socket.disconnectFromServer()
        return None if answer == ACTIVATED else "it did not confirm showing its window"

    def release(self) -> None:
        """Stop answering and free the store (on quit)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def _accept(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._read_request(s))
            socket.disconnected.connect(socket.deleteLater)
            self._read_request(socket)

    def _read_request(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            return
        if bytes(socket.readLine().data()) == ACTIVATE:
            log.info("another start on this demo store: showing the window")
            self.activationRequested.emit()
            socket.write(ACTIVATED)
            socket.flush()
        socket.disconnectFromServer()


def _read_line(socket: QLocalSocket, timeout_ms: int) -> bytes:
    deadline = time.monotonic() + timeout_ms / 1000
    while not socket.canReadLine():
        left = int((deadline - time.monotonic()) * 1000)
        if left <= 0 or not socket.waitForReadyRead(left):
            return b""
    return bytes(socket.readLine().data())
