"""Editors for values that hold other values: ordered checklists (arrays of enum), list
editors (arrays of text), key/value tables (objects keyed by pattern) and type switchers
(oneOf / anyOf / several types)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QSizePolicy,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kazoodesk.schema.defaults import NO_DEFAULT, json_copy
from kazoodesk.schema.fields import FieldSpec, Kind, closest_variant, convert_value, variant_label
from kazoodesk.ui.editor.editors import INPUT_WIDTH, MISSING, Editor, _tool, json_text
from kazoodesk.ui.editor.models import ChecklistModel, KeyValueTableModel, StringListModel
from kazoodesk.ui.editor.presentation import FieldOptions

_CAPTION_STYLE = "color: palette(mid);"


class Valued(Protocol):
    """What the form needs of every node, editor or object group."""

    def set_value(self, value: Any) -> None: ...

    def value(self) -> Any: ...


class _CollectionEditor(Editor):
    """A view with buttons beside it and a caption above; "not set" is a state of its own."""

    def __init__(
        self, spec: FieldSpec, options: FieldOptions, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, options, title, parent)
        self._absent = True
        column = QVBoxLayout()
        column.setSpacing(2)
        self.caption = QLabel(self)
        self.caption.setStyleSheet(_CAPTION_STYLE)
        column.addWidget(self.caption)
        self.view = self._make_view()
        self.name(self.view)
        column.addWidget(self.view)
        column.addStretch(1)
        self.body.addLayout(column, 3)
        self.buttons = QVBoxLayout()
        self.buttons.setSpacing(2)
        self.buttons.addSpacing(self.caption.sizeHint().height())
        self.body.addLayout(self.buttons)
        self.body.addStretch(1)
        self._controls: list[QWidget] = []

    def _make_view(self) -> QAbstractItemView:
        raise NotImplementedError

    def _button(self, text: str, tip: str, slot: Callable[[], None]) -> None:
        button = _tool(text, tip, self)
        button.setMinimumWidth(76)
        button.clicked.connect(slot)
        self.buttons.addWidget(button)
        self._controls.append(button)

    def _finish_buttons(self) -> None:
        self._button("Not set", f"Remove {self.title} from the device", self._unset)
        self.buttons.addStretch(1)

    def extra_controls(self) -> list[QWidget]:
        return self._controls

    def inputs(self) -> list[QWidget]:
        return [self.view]

    def _unset(self) -> None:
        self.show_value(MISSING)
        self.user_changed()

    def _touched(self) -> None:
        if self._loading:
            return
        self._absent = False
        self.user_changed()

    def _not_set_text(self) -> str:
        text = "Not set"
        if self.spec.has_default:
            default = self.spec.default
            if isinstance(default, list):
                shown = ", ".join(map(json_text, default)) or "none"
            else:
                shown = json_text(default) if default not in ({}, "") else "empty"
            text += f" (default: {shown})"
        return text


class ChecklistEditor(_CollectionEditor):
    """Array of enum (codecs): tick the wanted options and order them by preference."""

    def __init__(
        self, spec: FieldSpec, options: FieldOptions, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, options, title, parent)
        self._options = list(spec.items.enum or ()) if spec.items is not None else []
        self.model = ChecklistModel(self._options, self)
        self.view.setModel(self.model)
        self.model.dataChanged.connect(lambda *_: self._touched())
        self._button("Move up", f"Move the selected {title} option up", lambda: self._move(-1))
        self._button("Move down", f"Move the selected {title} option down", lambda: self._move(1))
        self._finish_buttons()
        rows = min(max(len(self._options), 2), 7)
        self.view.setFixedHeight(rows * self.view.sizeHintForRow(0) + 6)

    def _make_view(self) -> QAbstractItemView:
        view = QListView(self)
        view.setMaximumWidth(260)
        view.setMinimumWidth(200)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        return view

    def fits(self, value: Any) -> bool:
        if not isinstance(value, list):
            return False
        options = self._options
        allowed = all(any(v == o and type(v) is type(o) for o in options) for v in value)
        return allowed and len({json_text(v) for v in value}) == len(value)

    def show_value(self, value: Any) -> None:
        self._absent = value is MISSING
        self.model.set_checked([] if value is MISSING else list(value))
        self._caption()

    def read_value(self) -> Any:
        checked = self.model.checked()
        return MISSING if self._absent and not checked else checked

    def _caption(self) -> None:
        checked = self.model.checked()
        if self._absent and not checked:
            self.caption.setText(self._not_set_text())
        else:
            self.caption.setText(f"{len(checked)} of {len(self._options)} on, first preferred")

    def user_changed(self) -> None:
        self._caption()
        super().user_changed()

    def _move(self, delta: int) -> None:
        index = self.view.currentIndex()
        if not index.isValid():
            return
        row = index.row()
        if self.model.move(row, delta):
            self.view.setCurrentIndex(self.model.index(row + delta, 0))
            self._touched()


class ListEditor(_CollectionEditor):
    """Array of text (or numbers): add, remove, reorder, edit in place."""

    def __init__(
        self, spec: FieldSpec, options: FieldOptions, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, options, title, parent)
        self.model = StringListModel(self)
        self.view.setModel(self.model)
        for signal in (self.model.dataChanged, self.model.rowsInserted, self.model.rowsRemoved):
            signal.connect(lambda *_: self._touched())
        self.model.rowsMoved.connect(lambda *_: self._touched())
        self._button("Add", f"Add an entry to {title}", self._add)
        self._button("Remove", f"Remove the selected entry of {title}", self._remove)
        self._button("Move up", "Move the selected entry up", lambda: self._move(-1))
        self._button("Move down", "Move the selected entry down", lambda: self._move(1))
        self._finish_buttons()

    def _make_view(self) -> QAbstractItemView:
        view = QListView(self)
        view.setMaximumWidth(INPUT_WIDTH)
        view.setFixedHeight(110)
        view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        return view

    def _numeric(self) -> bool:
        return self.spec.items is not None and self.spec.items.kind in (Kind.INTEGER, Kind.NUMBER)

    def fits(self, value: Any) -> bool:
        item = self.spec.items
        return isinstance(value, list) and (item is None or all(item.accepts(v) for v in value))

    def show_value(self, value: Any) -> None:
        self._absent = value is MISSING
        self.model.set_texts([] if value is MISSING else [json_text(v) for v in value])
        self._caption()

    def read_value(self) -> Any:
        texts = self.model.texts()
        if self._absent and not texts:
            return MISSING
        if self._numeric():
            return [_number(t) for t in texts]
        return texts

    def _caption(self) -> None:
        count = self.model.rowCount()
        if self._absent and not count:
            self.caption.setText(self._not_set_text())
        else:
            self.caption.setText(f"{count} entr{'y' if count == 1 else 'ies'}")

    def user_changed(self) -> None:
        self._caption()
        super().user_changed()

    def _add(self) -> None:
        row = self.model.rowCount()
        self.model.insertRows(row, 1)
        index = self.model.index(row, 0)
        self.view.setCurrentIndex(index)
        self.view.edit(index)

    def _remove(self) -> None:
        index = self.view.currentIndex()
        if index.isValid():
            self.model.removeRows(index.row(), 1)

    def _move(self, delta: int) -> None:
        index = self.view.currentIndex()
        if not index.isValid():
            return
        if self.model.move(index.row(), delta):
            self.view.setCurrentIndex(self.model.index(index.row() + delta, 0))


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


class _EnumDelegate(QStyledItemDelegate):
    """A combo box for cells whose column is an enum (restriction action, key type)."""

    def __init__(self, model: KeyValueTableModel, parent: QWidget) -> None:
        super().__init__(parent)
        self._model = model

    def _options(self, index: QModelIndex | QPersistentModelIndex) -> list[str] | None:
        spec = self._model.column_spec(index.column())
        if spec is None:
            return None
        enums = [spec.enum] if spec.enum is not None else [v.enum for v in spec.variants]
        if not enums or any(e is None for e in enums):
            return None
        return list(dict.fromkeys(json_text(o) for e in enums for o in e or ()))

    def createEditor(  # noqa: N802
        self,
        parent: QWidget,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QWidget:
        options = self._options(index)
        if options is None:
            return super().createEditor(parent, option, index)
        combo = QComboBox(parent)
        combo.addItems(options)
        return combo

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:  # noqa: N802
        if isinstance(editor, QComboBox):
            editor.setCurrentText(str(index.data()))
        else:
            super().setEditorData(editor, index)

    def setModelData(  # noqa: N802
        self,
        editor: QWidget,
        model: QAbstractItemModel,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText())
        else:
            super().setModelData(editor, model, index)


def table_columns(value_spec: FieldSpec | None) -> list[tuple[str, FieldSpec | None]] | None:
    """One column per property when every value is an object of known properties."""
    if value_spec is None:
        return None
    objects = [value_spec] if value_spec.kind is Kind.OBJECT else list(value_spec.variants)
    if not objects or any(o.kind is not Kind.OBJECT for o in objects):
        return None
    columns: dict[str, FieldSpec | None] = {}
    for obj in objects:
        for name, child in obj.children.items():
            if child.kind in (Kind.OBJECT, Kind.MAP):
                return None
            columns.setdefault(name, child if len(objects) == 1 else _merged(objects, name))
    return list(columns.items())


def _merged(objects: list[FieldSpec], name: str) -> FieldSpec | None:
    """The column spec of a property that several variants define (the first one's, with the
    enum of all: the parking key and the line key share one Type column)."""
    found = [o.children[name] for o in objects if name in o.children]
    first = found[0]
    enums = [f.enum for f in found]
    if all(e is not None for e in enums):
        union = tuple(dict.fromkeys(o for e in enums for o in e or ()))
        return FieldSpec(
            path=first.path,
            kind=Kind.ENUM,
            title=first.title,
            description=first.description,
            enum=union,
            types=first.types,
        )
    return first


class MapEditor(_CollectionEditor):
    """An object of key -> value rows (custom SIP headers, hotdesk users, combo keys)."""

    def __init__(
        self,
        spec: FieldSpec,
        options: FieldOptions,
        title: str,
        parent: QWidget | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(spec, options, title, parent)
        value_spec = spec.map_value
        columns = table_columns(value_spec)
        key_title = str(options.options.get("key_label", "Key"))
        self.model = KeyValueTableModel(spec, value_spec, columns, key_title, exclude, self)
        self._exclude = exclude
        view = self.view
        assert isinstance(view, QTableView)
        view.setModel(self.model)
        view.setItemDelegate(_EnumDelegate(self.model, view))
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(80)
        for column in range(self.model.columnCount() - 1):
            view.setColumnWidth(column, 150 if column == 0 else 130)
        for signal in (self.model.dataChanged, self.model.rowsInserted, self.model.rowsRemoved):
            signal.connect(lambda *_: self._touched())
        self._button("Add", f"Add a row to {title}", self._add)
        self._button("Remove", f"Remove the selected rows of {title}", self._remove)
        self._finish_buttons()

    def _make_view(self) -> QAbstractItemView:
        view = QTableView(self)
        view.setMinimumWidth(INPUT_WIDTH)
        view.setMaximumWidth(INPUT_WIDTH + 300)
        view.setFixedHeight(170)
        view.verticalHeader().setVisible(False)
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 10)
        view.setAlternatingRowColors(True)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        return view

    def fits(self, value: Any) -> bool:
        return isinstance(value, dict)

    def show_value(self, value: Any) -> None:
        self._absent = value is MISSING
        self.model.set_mapping({} if value is MISSING else value)
        self._caption()

    def read_value(self) -> Any:
        mapping = self.model.mapping()
        return MISSING if self._absent and not mapping else mapping

    def check(self, value: Any) -> list[str]:
        return self.model.problems()

    def _caption(self) -> None:
        count = self.model.rowCount()
        if self._absent and not count:
            self.caption.setText(self._not_set_text())
        else:
            self.caption.setText(f"{count} row{'' if count == 1 else 's'}")

    def user_changed(self) -> None:
        self._caption()
        super().user_changed()

    def _add(self) -> None:
        row = self.model.add_row()
        index = self.model.index(row, 0)
        self.view.setCurrentIndex(index)
        self.view.edit(index)

    def _remove(self) -> None:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedIndexes()}, reverse=True)
        if not rows and self.view.currentIndex().isValid():
            rows = [self.view.currentIndex().row()]
        for row in rows:
            self.model.removeRows(row, 1)


class VariantEditor(Editor):
    """oneOf / anyOf / several types: pick the type, then edit the value with its widget.
    Switching keeps what still fits (text <-> number...) and remembers each type's value."""

    def __init__(
        self,
        spec: FieldSpec,
        options: FieldOptions,
        title: str,
        build: Callable[[FieldSpec], tuple[Valued, QWidget]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(spec, options, title, parent)
        column = QVBoxLayout()
        column.setSpacing(4)
        self.switch = QComboBox(self)
        self.name(self.switch, title=f"{title} (type)")
        self.switch.addItem("(not set)")
        self.stack = QStackedWidget(self)
        self.stack.addWidget(QWidget(self.stack))
        self.branches: list[Valued] = []
        self._remembered: dict[int, Any] = {}
        for variant in spec.variants:
            node, widget = build(variant)
            self.switch.addItem(variant_label(variant))
            self.stack.addWidget(widget)
            self.branches.append(node)
            node.changed.connect(self._branch_changed)  # type: ignore[attr-defined]
        self.switch.setMaximumWidth(INPUT_WIDTH)
        self.switch.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        if all(v.is_scalar for v in spec.variants):
            # a type and a value: one line
            self.body.addWidget(self.switch)
            self.body.addWidget(self.stack, 3)
            self.body.addStretch(1)
        else:
            row = QHBoxLayout()
            row.addWidget(self.switch)
            row.addStretch(1)
            column.addLayout(row)
            column.addWidget(self.stack)
            self.body.addLayout(column, 1)
        self.switch.currentIndexChanged.connect(self._switched)
        self._shown = 0
        self._fit_stack()

    def _fit_stack(self) -> None:
        """Size the stack to the page shown, not the largest one."""
        for index in range(self.stack.count()):
            page = self.stack.widget(index)
            if page is None:
                continue
            policy = (
                QSizePolicy.Policy.Preferred if index == self._shown else QSizePolicy.Policy.Ignored
            )
            page.setSizePolicy(policy, policy)
        self.stack.updateGeometry()

    def inputs(self) -> list[QWidget]:
        return [self.switch]

    def _branch_changed(self) -> None:
        if not self._loading:
            self.user_changed()

    def _switched(self, index: int) -> None:
        if self._loading:
            return
        old = self._shown
        current = self._branch_value(old) if old else MISSING
        if old:
            self._remembered[old] = current
        self._loading = True
        try:
            self.stack.setCurrentIndex(index)
            if index:
                carried = (
                    convert_value(current, self.spec.variants[index - 1])
                    if current is not MISSING
                    else NO_DEFAULT
                )
                if carried is NO_DEFAULT:
                    carried = self._remembered.get(index, MISSING)
                self.branches[index - 1].set_value(carried)
        finally:
            self._loading = False
        self._shown = index
        self._fit_stack()
        self.user_changed()

    def _branch_value(self, index: int) -> Any:
        value = self.branches[index - 1].value()
        if value is MISSING and self.spec.variants[index - 1].kind in (Kind.OBJECT, Kind.MAP):
            return {}
        return value

    def show_value(self, value: Any) -> None:
        self._remembered.clear()
        index = 0 if value is MISSING else closest_variant(self.spec, value) + 1
        for i, branch in enumerate(self.branches, start=1):
            branch.set_value(json_copy(value) if i == index else MISSING)
        self.switch.setCurrentIndex(index)
        self.stack.setCurrentIndex(index)
        self._shown = index
        self._fit_stack()

    def read_value(self) -> Any:
        return self._branch_value(self._shown) if self._shown else MISSING

    def set_rule(self, reason: str | None) -> None:
        super().set_rule(reason)
        self.stack.setEnabled(reason is None)
