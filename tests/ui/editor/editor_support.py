"""Shared helpers for the device editor tests (a plain module: fixtures are imported by name)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QWidget

from kazoodesk.resources import resource_path
from kazoodesk.schema import SchemaRegistry
from kazoodesk.ui.editor.editors import Editor
from kazoodesk.ui.editor.form import DeviceForm

OUTPUT = Path(__file__).resolve().parents[2] / "output"


def demo_account() -> dict[str, Any]:
    data = json.loads(resource_path("demo", "demo.json").read_text(encoding="utf-8"))
    pending = list(data["accounts"])
    while pending:
        account = pending.pop()
        if account["name"] == "Demo Co":
            return dict(account)
        pending.extend(account.get("accounts", []))
    raise LookupError("Demo Co")


def demo_devices() -> list[dict[str, Any]]:
    return list(demo_account()["devices"])


def demo_device(name_part: str) -> dict[str, Any]:
    return next(d for d in demo_devices() if name_part in d["name"])


def make_form(qtbot: Any, registry: SchemaRegistry) -> DeviceForm:
    """A form the size of an editor pane, with the demo users in its owner picker."""
    widget = DeviceForm(registry)
    qtbot.addWidget(widget)
    widget.resize(1000, 760)
    widget.set_users(demo_account()["users"])
    return widget


def editor(form: DeviceForm, path: str) -> Editor:
    found = form.editor(path)
    assert found is not None, path
    return found


def field(form: DeviceForm, path: str) -> QWidget:
    widget = form.field_widget(path)
    assert widget is not None, path
    return widget


def tab_titles(form: DeviceForm) -> list[str]:
    return [form.tabs.tabText(i) for i in range(form.tabs.count())]


def tab_index(form: DeviceForm, title: str) -> int:
    titles = [form.tabs.tabText(i).split(" (")[0] for i in range(form.tabs.count())]
    return titles.index(title)


_hosts: list[QWidget] = []


def show(form: DeviceForm, qtbot: Any) -> QWidget:
    """Show the form inside a plain window, as the app embeds it. (A top-level form with a
    layout makes the offscreen platform warn "does not support propagateSizeHints()" whenever
    its minimum size changes, and Qt warnings fail tests.)"""
    host = QWidget()
    qtbot.addWidget(host)
    _hosts.append(host)  # qtbot holds widgets weakly; the form must not vanish with its host
    form.setParent(host)
    host.resize(form.size())
    form.setGeometry(0, 0, form.width(), form.height())
    host.show()
    qtbot.waitExposed(host)
    host.activateWindow()
    return host
