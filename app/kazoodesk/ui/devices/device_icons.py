"""Icons of the device list: one drawing per device type (our SVGs under
resources/icons/devices/) and a coloured dot per registration state, painted here."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

from kazoodesk.resources import resource_path
from kazoodesk.ui.devices.device_types import Status, type_icon_name

# fill, outline; None fill = a ring
_STATUS_COLOURS: dict[Status, tuple[str | None, str]] = {
    Status.REGISTERED: ("#2fa84f", "#1f7a38"),
    Status.UNREGISTERED: ("#e0483e", "#a8302a"),
    Status.UNKNOWN: (None, "#a0a7af"),
    Status.NOT_REGISTRABLE: ("#d5dae0", "#a0a7af"),
    Status.DISABLED: ("#4a4f55", "#2c3035"),
}


@cache
def type_icon(device_type: str) -> QIcon:
    """The icon of a device type; unknown types share a question-mark drawing."""
    return QIcon(str(resource_path("icons", "devices", f"{type_icon_name(device_type)}.svg")))


def _dot(fill: str | None, outline: str, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(outline))
    pen.setWidthF(size / 12)
    painter.setPen(pen)
    if fill is None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
    else:
        painter.setBrush(QColor(fill))
    radius = size * 0.3
    centre = QPointF(size / 2, size / 2)
    painter.drawEllipse(QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius))
    painter.end()
    return pixmap


@cache
def status_icon(status: Status) -> QIcon:
    """A dot in the state's colour, drawn for normal and high-DPI screens."""
    fill, outline = _STATUS_COLOURS[status]
    icon = QIcon()
    for size in (16, 32):
        icon.addPixmap(_dot(fill, outline, size))
    return icon


@cache
def hotdesk_icon() -> QIcon:
    """A small swap-arrows mark for devices a user is hotdesked into."""
    icon = QIcon()
    for size in (16, 32):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor("#c77800"))
        pen.setWidthF(size / 9)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        s = size / 16
        painter.drawLine(QPointF(2 * s, 5 * s), QPointF(13 * s, 5 * s))
        painter.drawLine(QPointF(10 * s, 2 * s), QPointF(13 * s, 5 * s))
        painter.drawLine(QPointF(14 * s, 11 * s), QPointF(3 * s, 11 * s))
        painter.drawLine(QPointF(6 * s, 14 * s), QPointF(3 * s, 11 * s))
        painter.end()
        icon.addPixmap(pixmap)
    return icon
