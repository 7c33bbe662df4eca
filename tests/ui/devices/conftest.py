"""Fixtures of the device list tests: the demo devices and users (device_demo.py), a model
and a shown view holding them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import device_demo
import pytest

from kazoodesk.ui.devices.device_list_view import DeviceListView
from kazoodesk.ui.devices.device_table_model import DeviceTableModel


@pytest.fixture(scope="session", name="demo_rows")
def demo_rows_fixture() -> list[dict[str, Any]]:
    return device_demo.demo_rows()


@pytest.fixture(scope="session", name="demo_users")
def demo_users_fixture() -> list[dict[str, Any]]:
    return device_demo.demo_users()


@pytest.fixture
def by_name(demo_rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The demo rows by device name."""
    return {row["name"]: row for row in demo_rows}


@pytest.fixture
def user_id(demo_users: list[dict[str, Any]]) -> Any:
    """`user_id("Bob")`: the id of the demo user with that first name."""

    def find(first_name: str) -> str:
        return str(next(u["id"] for u in demo_users if u["first_name"] == first_name))

    return find


@pytest.fixture
def model(
    qapp: Any, demo_rows: list[dict[str, Any]], demo_users: list[dict[str, Any]]
) -> DeviceTableModel:
    """A model holding the demo devices (two pages) and users."""
    m = DeviceTableModel()
    m.set_users(demo_users)
    m.append_rows(demo_rows[:20])
    m.append_rows(demo_rows[20:])
    return m


@pytest.fixture
def view(
    qtbot: Any, demo_rows: list[dict[str, Any]], demo_users: list[dict[str, Any]]
) -> Iterator[DeviceListView]:
    """A list view of the demo devices, 1100×640, shown offscreen."""
    widget = DeviceListView("tests/deviceList")
    qtbot.addWidget(widget)
    widget.set_users(demo_users)
    widget.model.append_rows(demo_rows)
    widget.resize(1100, 640)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
