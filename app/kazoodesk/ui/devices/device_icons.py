"""Icons of the device list: one drawing per device type (our SVGs under
resources/icons/devices/) and a coloured dot per registration state, painted here.

The drawings' dark ink would vanish on a dark list: under a dark palette they are drawn with
a light ink instead. The dots' colours read on both palettes (3:1 or more)."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QBuffer, QByteArray, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImageReader, QPainter, QPen, QPixmap

from kazoodesk.resources import resource_path
from kazoodesk.ui.devices.device_types import Status, type_icon_name
from kazoodesk.ui.theme import is_dark

INK = b"#34495e"  # the outlines and dark parts of the SVG drawings
DARK_INK = b"#c3ccd6"
ICON_SIZES = (16, 32)

# fill, outline; None fill = a ring
_STATUS_COLOURS: dict[Status, tuple[str | None, str]] = {
    Status.REGISTERED: ("#2fa84f", "#1f7a38"),
    Status.UNREGISTERED: ("#e0483e", "#a8302a"),
    Status.UNKNOWN: (None, "#a0a7af"),
    Status.NOT_REGISTRABLE: ("#d5dae0", "#a0a7af"),
    Status.DISABLED: ("#7b828a", "#555b62"),  # with a bar across: "no entry"
}


def type_icon(device_type: str) -> QIcon:
    """The icon of a device type for the palette in use; unknown types share a
    question-mark drawing."""
    return _type_icon(type_icon_name(device_type), is_dark(QGuiApplication.palette()))


@cache
def _type_icon(name: str, dark: bool) -> QIcon:
    path = resource_path("icons", "devices", f"{name}.svg")
    if not dark:
        return QIcon(str(path))
    svg = QByteArray(path.read_bytes().replace(INK, DARK_INK))
    icon = QIcon()
    for size in ICON_SIZES:
        buffer = QBuffer(svg)
        reader = QImageReader(buffer, b"svg")
        reader.setScaledSize(QSize(size, size))
        icon.addPixmap(QPixmap.fromImage(reader.read()))
    return icon


def _dot(fill: str | None, outline: str, size: int, bar: bool = False) -> QPixmap:
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
    if bar:
        pen.setColor(QColor("#ffffff"))
        pen.setWidthF(size / 8)
        painter.setPen(pen)
        painter.drawLine(
            QPointF(centre.x() - radius / 2, centre.y()),
            QPointF(centre.x() + radius / 2, centre.y()),
        )
    painter.end()
    return pixmap


@cache
def status_icon(status: Status) -> QIcon:
    """A dot in the state's colour, drawn for normal and high-DPI screens."""
    fill, outline = _STATUS_COLOURS[status]
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addPixmap(_dot(fill, outline, size, bar=status == Status.DISABLED))
    return icon


@cache
def hotdesk_icon() -> QIcon:
    """A small swap-arrows mark for devices a user is hotdesked into."""
    icon = QIcon()
    for size in ICON_SIZES:
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
