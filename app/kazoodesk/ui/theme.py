"""Light and dark palettes that follow the system's colour scheme.

The Fusion style on every platform, with a palette of ours for each scheme: Fusion draws the
same with either, where native styles ignore part of a dark palette (or, on Linux, follow a
desktop theme we cannot see). Qt (6.5 and later) tells the scheme and when it changes
(`QStyleHints.colorScheme`, `colorSchemeChanged`); an unknown scheme (no desktop setting, the
offscreen platform) is light.

Widgets with colours of their own pick them by `is_dark(palette)` and restyle on
`QEvent.PaletteChange`, so they follow a switch without knowing this module.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
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
