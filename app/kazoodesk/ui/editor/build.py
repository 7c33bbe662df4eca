"""The widget registry (schema kind -> editor class, `widget` overrides from the presentation
file) and the object groups that hold editors and lay them out as labelled rows.

The builders come in two forms: generators (`*_steps`) that yield after each editor or row, so
a caller can spread building a whole form over several turns of the event loop, and plain
functions that run them to the end.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kazoodesk.schema.defaults import json_copy
from kazoodesk.schema.fields import FieldSpec, Kind
from kazoodesk.ui.editor.collections import (
    ChecklistEditor,
    ListEditor,
    MapEditor,
    Valued,
    VariantEditor,
)
from kazoodesk.ui.editor.editors import (
    MISSING,
    SCALAR_EDITORS,
    Editor,
    JsonEditor,
    PasswordEditor,
    StringEditor,
    SuggestEditor,
    UserPickerEditor,
)
from kazoodesk.ui.editor.presentation import FieldOptions, Presentation
from kazoodesk.ui.theme import tone

T = TypeVar("T")
Steps = Generator[None, None, T]  # yields between small units of work, returns the result


def run_steps(steps: Steps[T]) -> T:
    """Run `steps` to the end; its result."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


class ObjectNode(QObject):
    """An object with declared properties: no input of its own, a child per property. Its value
    is the loaded object with each child's value put in (or taken out when unset), so keys the
    schema does not know survive."""

    changed = Signal()

    def __init__(self, spec: FieldSpec, title: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.path = spec.dotted
        self.title = title
        self.fields: dict[str, Editor | ObjectNode] = {}
        self.extras: MapEditor | None = None  # additional/pattern properties beside declared
        self.box: QGroupBox | None = None  # where it is shown as a group
        self.error_label: QLabel | None = None
        self._base: Any = MISSING
        self._foreign: Any = MISSING

    def add(self, name: str, child: Editor | ObjectNode) -> None:
        self.fields[name] = child
        child.changed.connect(self.changed)

    def set_extras(self, extras: MapEditor) -> None:
        self.extras = extras
        extras.changed.connect(self.changed)

    def set_value(self, value: Any) -> None:
        if value is MISSING or isinstance(value, dict):
            self._base, self._foreign = json_copy(value), MISSING
        else:
            self._base, self._foreign = MISSING, json_copy(value)
        source = self._base if isinstance(self._base, dict) else {}
        for name, child in self.fields.items():
            child.set_value(json_copy(source[name]) if name in source else MISSING)
        if self.extras is not None:
            rest = {k: v for k, v in source.items() if k not in self.fields}
            self.extras.set_value(rest if isinstance(self._base, dict) and rest else MISSING)

    def value(self) -> Any:
        if self._foreign is not MISSING:
            return json_copy(self._foreign)
        out: dict[str, Any] = json_copy(self._base) if isinstance(self._base, dict) else {}
        for name, child in self.fields.items():
            value = child.value()
            if value is MISSING:
                out.pop(name, None)
            else:
                out[name] = value
        if self.extras is not None:
            for key in [k for k in out if k not in self.fields]:
                del out[key]
            extra = self.extras.value()
            if isinstance(extra, dict):
                out.update(extra)
        if self._base is MISSING and not out:
            return MISSING
        return out

    def walk(self) -> Iterator[Editor | ObjectNode]:
        yield self
        for child in self.fields.values():
            if isinstance(child, ObjectNode):
                yield from child.walk()
            else:
                yield child
        if self.extras is not None:
            yield self.extras

    def set_errors(self, messages: list[str]) -> None:
        if self.error_label is not None:
            self.error_label.setText("\n".join(messages))
            self.error_label.setVisible(bool(messages))


class WidgetRegistry:
    """Which editor shows a field: the presentation's `widget` override, else by schema kind."""

    def __init__(self, presentation: Presentation) -> None:
        self.presentation = presentation
        self.widgets: dict[str, type[Editor]] = {
            "text": StringEditor,
            "password": PasswordEditor,
            "suggest": SuggestEditor,
            "user_picker": UserPickerEditor,
            "json": JsonEditor,
            "checklist": ChecklistEditor,
            "list": ListEditor,
            "table": MapEditor,
        }

    def register(self, name: str, editor: type[Editor]) -> None:
        self.widgets[name] = editor

    def options(self, spec: FieldSpec) -> FieldOptions:
        return self.presentation.options_for(spec.dotted)

    def title(self, spec: FieldSpec) -> str:
        return self.options(spec).label or spec.title

    def editor_class(self, spec: FieldSpec, options: FieldOptions) -> type[Editor]:
        if options.widget:
            chosen = self.widgets.get(options.widget)
            if chosen is None:
                raise KeyError(f"{spec.dotted}: no widget called {options.widget!r}")
            return chosen
        if spec.kind is Kind.ARRAY:
            items = spec.items
            if items is not None and items.kind is Kind.ENUM:
                return ChecklistEditor
            if items is not None and items.kind in (Kind.STRING, Kind.INTEGER, Kind.NUMBER):
                return ListEditor
            return JsonEditor
        if spec.kind is Kind.MAP:
            return MapEditor
        if spec.kind is Kind.VARIANT:
            return VariantEditor
        return SCALAR_EDITORS.get(spec.kind, JsonEditor)

    def build(self, spec: FieldSpec) -> Editor | ObjectNode:
        """The editor tree of `spec`: object groups down to one editor per value."""
        return run_steps(self.build_steps(spec))

    def build_steps(self, spec: FieldSpec) -> Steps[Editor | ObjectNode]:
        """`build`, yielding after each editor."""
        options = self.options(spec)
        title = options.label or spec.title
        if spec.kind is Kind.OBJECT and not options.widget:
            node = ObjectNode(spec, title)
            for name, child in spec.children.items():
                node.add(name, (yield from self.build_steps(child)))
            if spec.pattern_properties or spec.additional is not None:
                extras_spec = FieldSpec(
                    path=spec.path,
                    kind=Kind.MAP,
                    title="Other keys",
                    description=spec.description,
                    pattern_properties=spec.pattern_properties,
                    additional=spec.additional,
                    additional_allowed=spec.additional_allowed,
                    children=spec.children,
                )
                extras = MapEditor(
                    extras_spec, options, "Other keys", exclude=frozenset(spec.children)
                )
                extras.path = spec.dotted + ".*"
                extras.name(extras.view)
                node.set_extras(extras)
                yield
            return node
        editor_class = self.editor_class(spec, options)
        if editor_class is VariantEditor:
            editor: Editor = VariantEditor(spec, options, title, self._branch)
        else:
            editor = editor_class(spec, options, title)
        yield
        return editor

    def _branch(self, spec: FieldSpec) -> tuple[Valued, QWidget]:
        built = self.build(spec)
        if isinstance(built, ObjectNode):
            page = QWidget()
            form = new_form(page)
            fill_form(built, form, self)
            return built, page
        return built, built


def new_form(parent: QWidget | None = None) -> QFormLayout:
    form = QFormLayout(parent)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
    form.setFormAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setHorizontalSpacing(14)
    form.setVerticalSpacing(8)
    return form


class FieldLabel(QLabel):
    """A row label: the title, a red star when required, the description as tooltip."""

    def __init__(self, title: str, spec: FieldSpec, buddy: QWidget | None) -> None:
        star = f' <span style="color:{tone("error")}">*</span>' if spec.required else ""
        super().__init__(f"{_escape(title)}{star}")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setObjectName(f"label:{spec.dotted}")
        if spec.description:
            self.setToolTip(spec.description)
        if buddy is not None:
            self.setBuddy(buddy)
        # labels line up with the first line of multi-line editors
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.setContentsMargins(0, 4, 0, 0)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def add_row(form: QFormLayout, editor: Editor) -> FieldLabel:
    label = FieldLabel(editor.title, editor.spec, editor.focus_target())
    form.addRow(label, editor)
    return label


Skip = Callable[[str], bool]


def fill_form(
    node: ObjectNode, form: QFormLayout, registry: WidgetRegistry, skip: Skip | None = None
) -> int:
    """Rows for `node`'s children into `form` (objects as group boxes), leaving out the paths
    `skip` says are shown elsewhere; returns how many editors it placed."""
    return run_steps(fill_form_steps(node, form, registry, skip))


def fill_form_steps(
    node: ObjectNode, form: QFormLayout, registry: WidgetRegistry, skip: Skip | None = None
) -> Steps[int]:
    """`fill_form`, yielding after each row."""
    placed = 0
    for child in node.fields.values():
        if skip is not None and skip(child.path):
            continue
        if isinstance(child, ObjectNode):
            if skip is not None and not any(
                not skip(n.path) for n in child.walk() if not isinstance(n, ObjectNode)
            ):
                continue
            box = yield from object_section_steps(child, registry, skip)
            form.addRow(box)
            placed += sum(1 for n in child.walk() if not isinstance(n, ObjectNode))
        else:
            add_row(form, child)
            placed += 1
        yield
    if node.extras is not None and not (skip is not None and skip(node.extras.path)):
        add_row(form, node.extras)
        placed += 1
        yield
    return placed


def object_section(
    node: ObjectNode, registry: WidgetRegistry, skip: Skip | None = None, boxed: bool = True
) -> QWidget:
    """A group box for an object (or, with `layout: tabs`, a tab per child object)."""
    return run_steps(object_section_steps(node, registry, skip, boxed))


def object_section_steps(
    node: ObjectNode, registry: WidgetRegistry, skip: Skip | None = None, boxed: bool = True
) -> Steps[QWidget]:
    """`object_section`, yielding after each row."""
    options = registry.options(node.spec)
    box = QGroupBox(node.title) if boxed else QWidget()
    if boxed:
        assert isinstance(box, QGroupBox)
        node.box = box
        box.setObjectName(f"group:{node.path}")
        if node.spec.description:
            box.setToolTip(node.spec.description)
    column = QVBoxLayout(box)
    if not boxed:
        column.setContentsMargins(0, 0, 0, 0)
    error = QLabel(box)
    error.setStyleSheet(f"color: {tone('error')};")
    error.setWordWrap(True)
    error.hide()
    node.error_label = error
    column.addWidget(error)
    if options.layout == "tabs":
        leaves = [c for c in node.fields.values() if not isinstance(c, ObjectNode)]
        if leaves:
            form = new_form()
            for leaf in leaves:
                if skip is None or not skip(leaf.path):
                    add_row(form, leaf)
                    yield
            column.addLayout(form)
        tabs = QTabWidget(box)
        tabs.setObjectName(f"tabs:{node.path}")
        tabs.setDocumentMode(True)
        for child in node.fields.values():
            if isinstance(child, ObjectNode) and (skip is None or not skip(child.path)):
                page = yield from object_section_steps(child, registry, skip, boxed=False)
                tabs.addTab(page, child.title)
        column.addWidget(tabs)
    else:
        form = new_form()
        yield from fill_form_steps(node, form, registry, skip)
        column.addLayout(form)
    return box
