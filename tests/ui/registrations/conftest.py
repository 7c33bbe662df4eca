"""Fixtures of the registration view tests: the app in our style, in a light or dark scheme."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from kazoodesk.ui.theme import STYLE, apply_scheme

SCHEMES = [Qt.ColorScheme.Light, Qt.ColorScheme.Dark]


@pytest.fixture(params=SCHEMES, ids=lambda s: s.name.lower())
def scheme(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[str]:
    """Fusion with the palette of each scheme in turn (put back after the test); the value is
    the scheme's name, for screenshot names."""
    palette, style = qapp.palette(), qapp.style().name()
    qapp.setStyle(STYLE)
    apply_scheme(qapp, request.param)
    yield request.param.name.lower()
    qapp.setStyle(style)
    qapp.setPalette(palette)
