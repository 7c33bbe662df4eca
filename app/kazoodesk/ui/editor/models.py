"""Qt item models behind the collection editors: an ordered checklist (codecs) and a key/value
table (custom SIP headers, hotdesk users, combo keys, call restrictions)."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from kazoodesk.schema.defaults import json_copy
from kazoodesk.schema.fields import FieldSpec, Kind
from kazoodesk.ui.theme import tone

Index = QModelIndex | QPersistentModelIndex
_ROOT: Final = QModelIndex()


def _checked(value: Any) -> bool:
    number = value.value if isinstance(value, Qt.CheckState) else value
    try:
        return int(number) == Qt.CheckState.Checked.value
    except (TypeError, ValueError):
        return False


class ChecklistModel(QAbstractListModel):
    """Options in order; the checked ones, in that order, are the value."""

    def __init__(self, options: list[Any], parent: Any = None) -> None:
        super().__init__(parent)
        self._options = list(options)
        self._order: list[Any] = list(options)
        self._checked: list[bool] = [False] * len(options)

    def rowCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self._order)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._order):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return str(self._order[index.row()])
        if role == Qt.ItemDataRole.CheckStateRole:
            checked = self._checked[index.row()]
            return Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not index.isValid() or role != Qt.ItemDataRole.CheckStateRole:
            return False
        self._checked[index.row()] = _checked(value)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsUserCheckable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def set_checked(self, values: list[Any]) -> None:
        """Checked `values` first in their order, then the other options in schema order."""
        self.beginResetModel()
        rest = [o for o in self._options if not any(_same(o, v) for v in values)]
        self._order = list(values) + rest
        self._checked = [True] * len(values) + [False] * len(rest)
        self.endResetModel()

    def checked(self) -> list[Any]:
        return [json_copy(o) for o, on in zip(self._order, self._checked, strict=True) if on]

    def is_checked(self, row: int) -> bool:
        return self._checked[row]

    def option(self, row: int) -> Any:
        return self._order[row]

    def move(self, row: int, delta: int) -> bool:
        target = row + delta
        if not (0 <= row < len(self._order) and 0 <= target < len(self._order)):
            return False
        # beginMoveRows wants the destination *before which* the row lands
        destination = target + 1 if delta > 0 else target
        self.beginMoveRows(_ROOT, row, row, _ROOT, destination)
        self._order.insert(target, self._order.pop(row))
        self._checked.insert(target, self._checked.pop(row))
        self.endMoveRows()
        return True


class StringListModel(QAbstractListModel):
    """Editable rows of text (our own rather than QStringListModel: PySide6 6.12 leaks a
    reference to None whenever Python reads an empty QVariant from a C++ model)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._texts: list[str] = []

    def rowCount(self, parent: Index = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._texts)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._texts):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._texts[index.row()]
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        self._texts[index.row()] = "" if value is None else str(value)
        self.dataChanged.emit(index, index)
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsEditable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def insertRows(self, row: int, count: int, parent: Index = _ROOT) -> bool:  # noqa: N802
        if parent.isValid() or not 0 <= row <= len(self._texts) or count < 1:
            return False
        self.beginInsertRows(_ROOT, row, row + count - 1)
        self._texts[row:row] = [""] * count
        self.endInsertRows()
        return True

    def removeRows(self, row: int, count: int, parent: Index = _ROOT) -> bool:  # noqa: N802
        if parent.isValid() or row < 0 or count < 1 or row + count > len(self._texts):
            return False
        self.beginRemoveRows(_ROOT, row, row + count - 1)
        del self._texts[row : row + count]
        self.endRemoveRows()
        return True

    def set_texts(self, texts: list[str]) -> None:
        self.beginResetModel()
        self._texts = list(texts)
        self.endResetModel()

    def texts(self) -> list[str]:
        return list(self._texts)

    def move(self, row: int, delta: int) -> bool:
        target = row + delta
        if not (0 <= row < len(self._texts) and 0 <= target < len(self._texts)):
            return False
        self.beginMoveRows(_ROOT, row, row, _ROOT, target + 1 if delta > 0 else target)
        self._texts.insert(target, self._texts.pop(row))
        self.endMoveRows()
        return True


def _same(a: Any, b: Any) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def parse_cell(text: str, spec: FieldSpec | None, previous: Any) -> Any:
    """The JSON value a user typed into a cell: text for text fields, numbers for numbers, and
    otherwise what the previous value was, or JSON when it reads as an object or a list."""
    kind = spec.kind if spec is not None else Kind.ANY
    stripped = text.strip()
    if kind is Kind.STRING or (
        kind is Kind.ENUM and spec is not None and all(isinstance(o, str) for o in spec.enum or ())
    ):
        return text
    integer = kind is Kind.INTEGER or isinstance(previous, int) and not isinstance(previous, bool)
    if integer and re.fullmatch(r"[+-]?[0-9]+", stripped):
        return int(stripped)
    if (kind is Kind.BOOLEAN or isinstance(previous, bool)) and stripped in ("true", "false"):
        return stripped == "true"
    if stripped[:1] in ("{", "[") or kind in (Kind.OBJECT, Kind.MAP, Kind.ARRAY):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    if kind in (Kind.INTEGER, Kind.NUMBER, Kind.BOOLEAN, Kind.ENUM):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text


class KeyValueTableModel(QAbstractTableModel):
    """Rows of (key, value). With `columns`, an object value is spread over one column per
    property (unknown properties are kept); otherwise one Value column holds the whole value."""

    def __init__(
        self,
        spec: FieldSpec,
        value_spec: FieldSpec | None,
        columns: list[tuple[str, FieldSpec | None]] | None = None,
        key_title: str = "Key",
        exclude: frozenset[str] = frozenset(),
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._spec = spec
        self._value_spec = value_spec
        self._columns = columns
        self._key_title = key_title
        self._exclude = exclude
        self._rows: list[list[Any]] = []  # [key, value]

    # -- Qt API ---------------------------------------------------------------------------

    def rowCount(self, parent: Index = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _ROOT) -> int:  # noqa: N802
        if parent.isValid():
            return 0
        return 1 + (len(self._columns) if self._columns is not None else 1)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        if section == 0:
            return self._key_title
        if self._columns is not None:
            if 0 < section <= len(self._columns):
                name, spec = self._columns[section - 1]
                return spec.title if spec is not None else name
            return None
        return "Value" if section == 1 else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self._valid(index):
            return None
        key, value = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == 0:
                return key
            return cell_text(self._cell(value, column))
        problem = self.key_problem(index.row()) if column == 0 else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if problem:
                return problem
            spec = self.column_spec(column)
            return spec.description if spec is not None and spec.description else None
        if role == Qt.ItemDataRole.ForegroundRole and problem:
            return QBrush(QColor(tone("error")))
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not self._valid(index) or role != Qt.ItemDataRole.EditRole:
            return False
        text = "" if value is None else str(value)
        row = self._rows[index.row()]
        column = index.column()
        if column == 0:
            row[0] = text.strip()
            # a key change can make other rows (duplicates) valid or not
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 0))
            return True
        if self._columns is None:
            row[1] = parse_cell(text, self._value_spec, row[1])
        else:
            name, spec = self._columns[column - 1]
            current = row[1] if isinstance(row[1], dict) else {}
            if text.strip() == "":
                current.pop(name, None)
            else:
                current[name] = parse_cell(text, spec, current.get(name))
            row[1] = current
        self.dataChanged.emit(index, index)
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )
        if index.column() == 0 or self._editable(index.row(), index.column()):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def insertRows(self, row: int, count: int, parent: Index = _ROOT) -> bool:  # noqa: N802
        if parent.isValid() or not 0 <= row <= len(self._rows) or count < 1:
            return False
        self.beginInsertRows(_ROOT, row, row + count - 1)
        for offset in range(count):
            self._rows.insert(row + offset, ["", self._empty_value()])
        self.endInsertRows()
        return True

    def removeRows(self, row: int, count: int, parent: Index = _ROOT) -> bool:  # noqa: N802
        if parent.isValid() or row < 0 or count < 1 or row + count > len(self._rows):
            return False
        self.beginRemoveRows(_ROOT, row, row + count - 1)
        del self._rows[row : row + count]
        self.endRemoveRows()
        return True

    # -- ours -----------------------------------------------------------------------------

    def column_spec(self, column: int) -> FieldSpec | None:
        if column == 0:
            return None
        if self._columns is None:
            return self._value_spec
        return self._columns[column - 1][1] if 0 < column <= len(self._columns) else None

    def set_mapping(self, mapping: dict[str, Any]) -> None:
        self.beginResetModel()
        self._rows = [
            [key, json_copy(value)] for key, value in mapping.items() if key not in self._exclude
        ]
        self.endResetModel()

    def mapping(self) -> dict[str, Any]:
        """The rows as an object; rows without a key are left out (still being typed)."""
        return {key: json_copy(value) for key, value in self._rows if key}

    def rows(self) -> list[tuple[str, Any]]:
        return [(key, json_copy(value)) for key, value in self._rows]

    def add_row(self, key: str = "", value: Any = None) -> int:
        row = len(self._rows)
        self.insertRows(row, 1)
        self._rows[row][0] = key
        if value is not None:
            self._rows[row][1] = json_copy(value)
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))
        return row

    def key_problem(self, row: int) -> str | None:
        key = self._rows[row][0]
        if not key:
            return "Enter a key"
        if key in self._exclude:
            return f"“{key}” is a field of its own"
        if any(other == key for i, (other, _) in enumerate(self._rows) if i != row):
            return f"The key “{key}” appears more than once"
        if not self._spec.key_allowed(key):
            patterns = ", ".join(p for p, _ in self._spec.pattern_properties)
            return f"The key “{key}” does not match {patterns}"
        return None

    def problems(self) -> list[str]:
        out = []
        for row in range(len(self._rows)):
            problem = self.key_problem(row)
            if problem and self._rows[row][0]:
                out.append(f"Row {row + 1}: {problem}")
        return out

    def _cell(self, value: Any, column: int) -> Any:
        if self._columns is None:
            return value
        name = self._columns[column - 1][0]
        return value.get(name) if isinstance(value, dict) else None

    def _editable(self, row: int, column: int) -> bool:
        if self._columns is None:
            return True
        value = self._rows[row][1]
        return value is None or isinstance(value, dict)

    def _empty_value(self) -> Any:
        if self._columns is not None:
            return {}
        spec = self._value_spec
        if spec is None or spec.kind in (Kind.STRING, Kind.ENUM):
            return ""
        if (
            spec.kind in (Kind.OBJECT, Kind.MAP)
            or "object" in spec.types
            or any(v.kind is Kind.OBJECT for v in spec.variants)
        ):
            return {}
        return ""

    def _valid(self, index: Index) -> bool:
        return (
            index.isValid()
            and 0 <= index.row() < len(self._rows)
            and 0 <= index.column() < self.columnCount()
        )
