"""`DeviceForm`: the tabbed device editor generated from the device schema.

Widgets are built once per schema; `load()` only fills in values, so opening another device is
cheap. `DeviceForm(registry)` builds them all at once; `DeviceForm(registry, deferred=True)`
only the frame, and `await form.build()` (or `DeviceForm.assemble`) the rest in slices of about
`BUILD_SLICE_S`, yielding to the event loop between them, so building never stalls the UI for
long. Until it is built, the form keeps what it is given (loaded document, errors, users) and
shows it once it is; the calls that hand out widgets (`field_widget`, `editor`, `focus_field`,
`paths`, `tab_of`) finish the build first. Tabs and widget choices come from the presentation file
(presentation.py); the Advanced tab collects whatever no other tab places, so fields only a
server's schema has still show up. Errors (local validation or a server's 400) go through
`set_errors`: under each field, as a count on each tab, and in a summary list.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kazoodesk.schema import SchemaRegistry, validate
from kazoodesk.schema.defaults import json_copy
from kazoodesk.schema.fields import FieldSpec, build_fields
from kazoodesk.schema.paths import changed_leaves, get_path, has_path, json_equal
from kazoodesk.ui.editor.build import (
    FieldLabel,
    ObjectNode,
    Steps,
    WidgetRegistry,
    add_row,
    new_form,
    object_section_steps,
)
from kazoodesk.ui.editor.editors import Editor, UserPickerEditor
from kazoodesk.ui.editor.json_tab import JsonTab
from kazoodesk.ui.editor.presentation import Group, Presentation, TabDef
from kazoodesk.ui.theme import tone

Node = Editor | ObjectNode

BUILD_SLICE_S = 0.012  # a slice of the deferred build stops after its first step past this


def _badge_icon() -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(tone("error")))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(1, 1, 10, 10)
    painter.end()
    return QIcon(pixmap)


class ErrorSummary(QFrame):
    """Every current error in one list; clicking one takes you to its field."""

    activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errors")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        fill, edge = tone("error-fill"), tone("error-edge")
        self.setStyleSheet(f"#errors {{ background: {fill}; border: 1px solid {edge}; }}")
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 6, 8, 6)
        self.header = QLabel(self)
        self.header.setStyleSheet(f"color: {tone('error')}; font-weight: bold;")
        column.addWidget(self.header)
        self.list = QListWidget(self)
        self.list.setObjectName("errors:list")
        self.list.setAccessibleName("Errors")
        self.list.setStyleSheet("QListWidget { background: transparent; border: none; }")
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        column.addWidget(self.list)
        self.hide()

    def set_items(self, items: list[tuple[str, str]]) -> None:
        self.list.clear()
        for path, text in items:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(f"Go to {path}")
            self.list.addItem(item)
        count = len(items)
        rows = min(count, 5)
        self.list.setFixedHeight(rows * (self.list.fontMetrics().height() + 4) + 6)
        self.header.setText(
            f"{count} problem{'s' * (count != 1)} to fix. Click one to go to its field."
        )
        self.setVisible(bool(items))

    def _clicked(self, item: QListWidgetItem) -> None:
        self.activated.emit(str(item.data(Qt.ItemDataRole.UserRole)))


class DeviceForm(QWidget):
    dirtyChanged = Signal(bool)  # noqa: N815 (Qt naming)
    edited = Signal()

    def __init__(
        self,
        registry: SchemaRegistry,
        parent: QWidget | None = None,
        presentation: Presentation | None = None,
        *,
        deferred: bool = False,
    ) -> None:
        super().__init__(parent)
        self._registry = registry
        self._presentation = presentation if presentation is not None else Presentation.load()
        self.spec: FieldSpec = build_fields(registry, self._presentation.schema)
        self._widgets = WidgetRegistry(self._presentation)
        self._root: ObjectNode
        self._nodes: dict[str, Node] = {}
        self._baseline: dict[str, Any] = {}
        self._errors: dict[str, list[str]] = {}
        self._users: list[dict[str, Any]] | None = None
        self._dirty = False
        self._loading = False
        self._json_stale = True
        self._rule_targets = {p for rule in self._presentation.rules for p in rule.disable}
        self._badge = _badge_icon()

        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.summary = ErrorSummary(self)
        self.summary.activated.connect(self.focus_field)
        column.addWidget(self.summary)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("device-tabs")
        self.tabs.setUsesScrollButtons(True)
        column.addWidget(self.tabs, 1)
        self.json_tab = JsonTab(self._problems)
        self.json_tab.documentEdited.connect(self._json_edited)
        self._tab_defs: list[TabDef] = []
        self._previous_tab = -1
        self._built = False
        self._steps: Steps[None] | None = self._build_steps()
        self._stepping = False
        if not deferred:
            self.finish_build()

    @classmethod
    async def assemble(
        cls,
        registry: SchemaRegistry,
        parent: QWidget | None = None,
        presentation: Presentation | None = None,
    ) -> DeviceForm:
        """A form built a slice at a time (see `build`)."""
        form = cls(registry, parent, presentation, deferred=True)
        await form.build()
        return form

    async def build(self, slice_s: float = BUILD_SLICE_S) -> None:
        """Finish building: a slice of about `slice_s` at a time, each after a turn of the
        event loop (so not straight after the constructor either). Returns at once when built;
        stops quietly when the form is deleted."""
        while self._steps is not None:
            await asyncio.sleep(0)
            if not shiboken6.isValid(self):
                return
            self._run_steps(slice_s)

    def is_built(self) -> bool:
        return self._built

    # -- building -------------------------------------------------------------------------

    def finish_build(self) -> None:
        """Build the rest at once (nothing when built)."""
        self._run_steps(None)

    def _run_steps(self, seconds: float | None) -> None:
        """Build for about `seconds` (None: to the end)."""
        steps = self._steps
        if steps is None or self._stepping:  # built, or called from a step of the build
            return
        deadline = None if seconds is None else time.perf_counter() + seconds
        self._stepping = True
        try:
            for _ in steps:
                if deadline is not None and time.perf_counter() >= deadline:
                    return
            self._steps = None
        except BaseException:
            self._steps = None  # a failed build is not retried (nor stepped forever)
            raise
        finally:
            self._stepping = False

    def _build_steps(self) -> Steps[None]:
        root = yield from self._widgets.build_steps(self.spec)
        assert isinstance(root, ObjectNode)
        self._root = root
        self._nodes = {n.path: n for n in root.walk() if n is not root}
        yield
        yield from self._build_tabs()
        self.tabs.currentChanged.connect(self._tab_changed)
        self._previous_tab = self.tabs.currentIndex()
        for node in self._nodes.values():
            if isinstance(node, Editor):
                node.changed.connect(partial(self._field_edited, node.path))
        if self._users is not None:
            self._apply_users(self._users)
        yield
        self._built = True
        self._fill()
        self._show_errors()

    def _build_tabs(self) -> Steps[None]:
        placed = self._presentation.placed_paths()

        def explicit(path: str) -> bool:
            return path in placed

        def covered(path: str) -> bool:
            return any(path == p or path.startswith(p + ".") for p in placed)

        for tab in self._presentation.tabs:
            if tab.json:
                page: QWidget = self.json_tab
            else:
                if tab.rest:
                    content = yield from self._rest_page(tab, covered)
                else:
                    content = yield from self._tab_page(tab, explicit)
                yield
                page = self._scroll(content)
            page.setObjectName(f"tab:{tab.id}")
            self.tabs.addTab(page, tab.title)
            self._tab_defs.append(tab)
            yield

    def _scroll(self, content: QWidget) -> QScrollArea:
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidget(content)
        _align_labels(content)
        return area

    def _tab_page(self, tab: TabDef, skip: Callable[[str], bool]) -> Steps[QWidget]:
        content = QWidget()
        column = QVBoxLayout(content)
        column.setSpacing(10)
        loose: QGroupBox | None = None
        for item in tab.items:
            if isinstance(item, Group):
                box = QGroupBox(item.title)
                form = new_form(box)
                for path in item.fields:
                    node = self._nodes.get(path)
                    if isinstance(node, ObjectNode):
                        form.addRow((yield from object_section_steps(node, self._widgets, skip)))
                    elif node is not None:
                        add_row(form, node)
                        yield
                if form.rowCount():
                    column.addWidget(box)
                loose = None
                continue
            node = self._nodes.get(item)
            if node is None:  # this server's schema lacks the field
                continue
            if isinstance(node, ObjectNode):
                column.addWidget((yield from object_section_steps(node, self._widgets, skip)))
                loose = None
            else:
                if loose is None:
                    loose = QGroupBox(tab.title)
                    new_form(loose)
                    column.addWidget(loose)
                layout = loose.layout()
                assert layout is not None
                add_row(layout, node)  # type: ignore[arg-type]
                yield
        column.addStretch(1)
        return content

    def _rest_page(self, tab: TabDef, covered: Callable[[str], bool]) -> Steps[QWidget]:
        content = QWidget()
        column = QVBoxLayout(content)
        column.setSpacing(10)
        if tab.note:
            note = QLabel(tab.note)
            note.setWordWrap(True)
            note.setStyleSheet("color: palette(mid);")
            column.addWidget(note)
        general = QGroupBox("General")
        general_form = new_form(general)
        sections: list[QWidget] = []
        for child in self._root.fields.values():
            if covered(child.path):
                continue
            if isinstance(child, ObjectNode):
                if any(not covered(n.path) for n in child.walk() if not isinstance(n, ObjectNode)):
                    sections.append(
                        (yield from object_section_steps(child, self._widgets, covered))
                    )
            else:
                add_row(general_form, child)
                yield
        if general_form.rowCount():
            column.addWidget(general)
        for section in sections:
            column.addWidget(section)
        if not general_form.rowCount() and not sections:
            column.addWidget(QLabel("Every field of the schema is on another tab."))
        column.addStretch(1)
        return content

    # -- public API -----------------------------------------------------------------------

    def set_users(self, users: list[dict[str, Any]]) -> None:
        self._users = users
        if self._built:
            self._apply_users(users)

    def load(self, document: dict[str, Any]) -> None:
        self._baseline = json_copy(document)
        self._errors = {}
        if self._built:  # else it is shown once built
            self._fill()
            self._show_errors()

    def document(self) -> dict[str, Any]:
        if not self._built:  # nothing can have been edited yet
            return json_copy(self._baseline)
        value = self._root.value()
        return value if isinstance(value, dict) else {}

    def is_dirty(self) -> bool:
        return self._built and not json_equal(self.document(), self._baseline)

    def changed_paths(self) -> list[str]:
        return changed_leaves(self._baseline, self.document())

    def revert(self) -> None:
        self.load(self._baseline)

    def validate(self) -> dict[str, list[str]]:
        errors = self._problems(self.document())
        self.set_errors(errors)
        return errors

    def set_errors(self, errors: dict[str, list[str]]) -> None:
        self._errors = {path: list(messages) for path, messages in errors.items() if messages}
        if self._built:  # else they are shown once built
            self._show_errors()

    def errors(self) -> dict[str, list[str]]:
        return {path: list(messages) for path, messages in self._errors.items()}

    def focus_field(self, path: str) -> bool:
        self.finish_build()
        node = self._owner(path)
        if node is None:
            self.tabs.setCurrentWidget(self.json_tab)
            self.json_tab.editor.setFocus(Qt.FocusReason.OtherFocusReason)
            return False
        target = self._focus_target(node)
        if target is None:
            return False
        _reveal(target)
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def field_widget(self, path: str) -> QWidget | None:
        """The input named `path` (for an object group, its group box)."""
        self.finish_build()
        node = self._nodes.get(path)
        if isinstance(node, Editor):
            return node.focus_target()
        if isinstance(node, ObjectNode):
            return node.box
        return None

    def editor(self, path: str) -> Editor | None:
        self.finish_build()
        node = self._nodes.get(path)
        return node if isinstance(node, Editor) else None

    def paths(self) -> list[str]:
        """Every path the form has an editor for."""
        self.finish_build()
        return [path for path, node in self._nodes.items() if isinstance(node, Editor)]

    def tab_of(self, path: str) -> int:
        """The index of the tab that shows `path` (the JSON tab when no other does)."""
        self.finish_build()
        node = self._owner(path)
        target = self._focus_target(node) if node is not None else None
        if target is not None:
            widget: QWidget | None = target
            while widget is not None:
                index = self.tabs.indexOf(widget)
                if index >= 0:
                    return index
                widget = widget.parentWidget()
        return self.tabs.indexOf(self.json_tab)

    # -- changes --------------------------------------------------------------------------

    def _apply_users(self, users: list[dict[str, Any]]) -> None:
        for node in self._nodes.values():
            if isinstance(node, UserPickerEditor):
                node.set_users(users)

    def _fill(self) -> None:
        """Show the baseline in the widgets."""
        self._loading = True
        try:
            self._root.set_value(json_copy(self._baseline))
        finally:
            self._loading = False
        self._json_stale = True
        self._sync_json_if_shown()
        self._after_change(user=False)

    def _field_edited(self, path: str) -> None:
        if self._loading:
            return
        stale = [p for p in self._errors if p == path or p.startswith(path + ".")]
        if stale:
            for p in stale:
                del self._errors[p]
            self._show_errors()
        self._json_stale = True
        self._after_change(user=True)

    def _json_edited(self, document: dict[str, Any]) -> None:
        self._loading = True
        try:
            self._root.set_value(json_copy(document))
        finally:
            self._loading = False
        self._after_change(user=True)

    def _after_change(self, user: bool) -> None:
        document = self.document()
        self._apply_rules(document)
        dirty = not json_equal(document, self._baseline)
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirtyChanged.emit(dirty)
        if user:
            self.edited.emit()

    def _apply_rules(self, document: dict[str, Any]) -> None:
        def value_at(path: str) -> Any:
            if has_path(document, path):
                return get_path(document, path)
            spec = self.spec.find(path)
            return spec.default if spec is not None and spec.has_default else None

        reasons: dict[str, list[str]] = {}
        for rule in self._presentation.rules:
            if rule.holds(value_at):
                for path in rule.disable:
                    reasons.setdefault(path, []).append(rule.reason)
        for path in self._rule_targets:
            node = self._nodes.get(path)
            if isinstance(node, Editor):
                node.set_rule("\n".join(reasons[path]) if path in reasons else None)

    def _tab_changed(self, index: int) -> None:
        previous = self._previous_tab
        self._previous_tab = index
        if self.tabs.widget(previous) is self.json_tab and self.json_tab._timer.isActive():
            self.json_tab.apply()
        self._sync_json_if_shown()

    def _sync_json_if_shown(self) -> None:
        if self.tabs.currentWidget() is self.json_tab and self._json_stale:
            self.json_tab.set_document(self.document())
            self._json_stale = False

    # -- errors ---------------------------------------------------------------------------

    def _problems(self, document: dict[str, Any]) -> dict[str, list[str]]:
        result = validate(self._registry, self._presentation.schema, document)
        return {
            path: [str(body.get("message", code)) for code, body in codes.items()]
            for path, codes in result.errors.items()
        }

    def _owner(self, path: str) -> Node | None:
        current = path
        while current:
            node = self._nodes.get(current)
            if node is not None:
                return node
            current = current.rpartition(".")[0]
        return None

    def _focus_target(self, node: Node) -> QWidget | None:
        if isinstance(node, Editor):
            return node.focus_target()
        if node.box is not None:
            return node.box
        for child in node.walk():
            if isinstance(child, Editor):
                return child.focus_target()
        return None

    def _show_errors(self) -> None:
        per_node: dict[int, list[str]] = {}
        counts = [0] * self.tabs.count()
        items: list[tuple[str, str]] = []
        for path, messages in self._errors.items():
            node = self._owner(path)
            tab_index = self.tab_of(path)
            counts[tab_index] += len(messages)
            tab_title = self._tab_defs[tab_index].title
            if node is None:
                where = f"{tab_title} › {path}"
            else:
                rest = path[len(node.path) + 1 :] if path != node.path else ""
                per_node.setdefault(id(node), []).extend(
                    f"{rest}: {m}" if rest else m for m in messages
                )
                where = f"{tab_title} › {node.title}" + (f" ({rest})" if rest else "")
            items.extend((path, f"{where}: {message}") for message in messages)
        for node in self._nodes.values():
            node.set_errors(per_node.get(id(node), []))
        for index, tab in enumerate(self._tab_defs):
            count = counts[index]
            self.tabs.setTabText(index, f"{tab.title} ({count})" if count else tab.title)
            self.tabs.setTabIcon(index, self._badge if count else QIcon())
            self.tabs.setTabToolTip(
                index, f"{count} problem{'s' * (count != 1)} on this tab" if count else ""
            )
        self.summary.set_items(items)


def _reveal(widget: QWidget) -> None:
    """Make the tabs (outer and inner) holding `widget` current and scroll it into view."""
    child: QWidget = widget
    parent = widget.parentWidget()
    while parent is not None:
        grand = parent.parentWidget()
        if isinstance(parent, QStackedWidget) and isinstance(grand, QTabWidget):
            grand.setCurrentWidget(child)
        if isinstance(parent, QScrollArea):
            pass
        child, parent = parent, grand
    ancestor = widget.parentWidget()
    while ancestor is not None:
        if isinstance(ancestor, QScrollArea):
            ancestor.ensureWidgetVisible(widget)
        ancestor = ancestor.parentWidget()


def _align_labels(content: QWidget) -> None:
    """One label width per tab, so rows of different group boxes line up."""
    labels = content.findChildren(FieldLabel)
    if labels:
        width = max(label.sizeHint().width() for label in labels)
        for label in labels:
            label.setMinimumWidth(width)
