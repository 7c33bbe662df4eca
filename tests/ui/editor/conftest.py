"""Fixtures of the editor tests: the bundled schemas and a form built from them."""

from __future__ import annotations

from typing import Any

import pytest
from editor_support import make_form

from kazoodesk.schema import SchemaRegistry
from kazoodesk.ui.editor.form import DeviceForm


@pytest.fixture(scope="session")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load()


@pytest.fixture
def form(qtbot: Any, registry: SchemaRegistry) -> DeviceForm:
    return make_form(qtbot, registry)
