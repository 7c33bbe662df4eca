"""Light and dark palettes that follow the system's colour scheme.

The Fusion style on every platform, with a palette of ours for each scheme: Fusion draws the
same with either, where native styles ignore part of a dark palette (or, on Linux, follow a
desktop theme we cannot see). Qt (6.5 and later) tells the scheme and when it changes
(`QStyleHints.colorScheme`, `colorSchemeChanged`); an unknown scheme (no desktop setting, the
offscreen platform) is light.

Our own widgets take their colours from `TONES` through `tone()`, never as literals. The main
window restyles on `QEvent.PaletteChange`; editor messages take the tone of the moment they
are shown (an open form keeps its colours until it is built again).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

STYLE = "Fusion"

Role = QPalette.ColorRole
Group = QPalette.ColorGroup

LIGHT_HIGHLIGHT = "#2a78b0"  # Fusion's #308cc6 has 3.7:1 with white
# every group but what DARK_DISABLED overrides
DARK = {
    Role.Window: "#2b2d30",
    Role.WindowText: "#e3e5e8",
    Role.Base: "#1e1f22",
    Role.AlternateBase: "#26282b",
    Role.ToolTipBase: "#3c3f44",
    Role.ToolTipText: "#e3e5e8",
    Role.PlaceholderText: "#8b9098",
    Role.Text: "#e3e5e8",
    Role.Button: "#35383c",
    Role.ButtonText: "#e3e5e8",
    Role.BrightText: "#ff7b72",
    Role.Light: "#4a4e54",
    Role.Midlight: "#3f4247",
    Role.Mid: "#8b9098",  # also the text colour of captions and notes (`palette(mid)`)
    Role.Dark: "#1a1b1e",
    Role.Shadow: "#0e0f10",
    Role.Highlight: "#2f68c4",
    Role.HighlightedText: "#ffffff",
    Role.Link: "#6ea8fe",
    Role.LinkVisited: "#b89af0",
}
DARK_DISABLED = {
    Role.WindowText: "#6f747b",
    Role.Text: "#6f747b",
    Role.ButtonText: "#6f747b",
    Role.Highlight: "#4a4e54",
    Role.HighlightedText: "#a9adb3",
}

# Colours of our own, by meaning: (on the light palette, on the dark one). Text tones have
# 4.5:1 against their palette's window and base; the fills sit behind their matching text.
TONES = {
    "error": ("#b3261e", "#ff8a80"),
    "warning": ("#9a5b00", "#f2a05a"),
    "ok": ("#176c32", "#63c983"),
    "pending": ("#7a6000", "#e3c054"),
    "error-fill": ("#fdecea", "#3d2422"),
    "error-edge": ("#e6a4a0", "#8c3a35"),
    "notice-fill": ("#fff4ce", "#4a3c0a"),
    "notice": ("#5c4400", "#ffe49a"),
    # the activity chart: its line (3:1 against the base), the fill under it, the grid
    "chart-line": ("#1f6fb2", "#6ea8fe"),
    "chart-fill": ("#dcebf8", "#1f3550"),
    "chart-grid": ("#cfd5dc", "#3d4148"),
    # a device's registration timeline (3:1 against the base but the last): up, dropped,
    # unregistered on purpose, not seen yet
    "timeline-up": ("#2e8b4a", "#3fae62"),
    "timeline-down": ("#c9413a", "#e0665f"),
    "timeline-off": ("#7b828a", "#8b9098"),
    "timeline-unknown": ("#c9cdd2", "#4a4e54"),
}
TEXT_TONES = ("error", "warning", "ok", "pending")
# the tone of each source of registration state (kazoodesk.live.feed.Source values)
SOURCE_TONES = {"live": "ok", "polling": "pending", "offline": "error"}


def follow_system(app: QApplication) -> None:
    """Fusion, with the palette of the system's scheme now and whenever it changes."""
    app.setStyle(STYLE)
    hints = app.styleHints()
    apply_scheme(app, hints.colorScheme())
    hints.colorSchemeChanged.connect(lambda scheme: apply_scheme(app, scheme))


def apply_scheme(app: QApplication, scheme: Qt.ColorScheme) -> None:
    """The palette of `scheme` (light for Unknown) on the whole app."""
    app.setPalette(dark_palette() if scheme == Qt.ColorScheme.Dark else light_palette())


def light_palette() -> QPalette:
    """Fusion's own, with a selection dark enough for its white text (4.5:1)."""
    palette = QStyleFactory.create(STYLE).standardPalette()
    palette.setColor(Group.Active, Role.Highlight, QColor(LIGHT_HIGHLIGHT))
    palette.setColor(Group.Inactive, Role.Highlight, QColor(LIGHT_HIGHLIGHT))
    return palette


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in DARK.items():
        palette.setColor(role, QColor(colour))
    for role, colour in DARK_DISABLED.items():
        palette.setColor(Group.Disabled, role, QColor(colour))
    return palette


def is_dark(palette: QPalette) -> bool:
    """Whether `palette` is a dark one (light text on a dark window)."""
    return palette.color(Role.Window).lightness() < 128


def tone(name: str, palette: QPalette | None = None) -> str:
    """The colour `name` of `TONES` for `palette` (the application's when None)."""
    light, dark = TONES[name]
    return dark if is_dark(palette or QGuiApplication.palette()) else light
