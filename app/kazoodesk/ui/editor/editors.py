"""Field editors for single values: the base class every generated input shares, and the
scalar editors (text, password, suggestions, user picker, integer, number, boolean, enum, JSON).

Every editor edits one value (`MISSING` when the document lacks it), shows the schema default as
a placeholder without ever writing it, names its input after the dotted path and the title,
and shows three kinds of text under the input: a rule note, live feedback and errors. A loaded
value the editor cannot show (a wrong type) is kept as it is and the input is disabled, so
nothing is lost: it can be fixed on the JSON tab.
"""

from __future__ import annotations

import contextlib
import json
import zoneinfo
from typing import Any, Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kazoodesk.device_templates import generate_password
from kazoodesk.schema.defaults import json_copy
from kazoodesk.schema.fields import FieldSpec, Kind, pattern_matches
from kazoodesk.ui.editor.presentation import FieldOptions
from kazoodesk.ui.theme import tone


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final[Any] = _Missing()  # the document has no value here

INPUT_WIDTH: Final = 420  # widest a one-line input grows: forms read better narrow
_NOTE_STYLE: Final = "color: palette(mid); font-style: italic;"


def _invalid_input() -> str:
    return f"border: 1px solid {tone('error')}; border-radius: 3px; padding: 1px 2px;"


def json_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def name_input(widget: QWidget, path: str, title: str, description: str) -> None:
    """What makes a generated input findable: objectName = dotted path, accessibleName =
    title (also for screen readers), the schema's description as tooltip."""
    widget.setObjectName(path)
    widget.setAccessibleName(title)
    if description:
        widget.setToolTip(description)
        widget.setAccessibleDescription(description)


class Editor(QWidget):
    """One field's input plus its note, feedback and error lines."""

    changed = Signal()  # the user changed the value (never emitted while loading)

    def __init__(
        self, spec: FieldSpec, options: FieldOptions, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.spec = spec
        self.options = options
        self.path = spec.dotted
        self.title = title
        self._foreign: Any = MISSING
        self._loaded: Any = MISSING
        self._loading = False
        self._rule_reason: str | None = None
        self._errors: list[str] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        self.body = QHBoxLayout()
        self.body.setContentsMargins(0, 0, 0, 0)
        self.body.setSpacing(4)
        outer.addLayout(self.body)
        self.note = self._line(_NOTE_STYLE)
        self.feedback = self._line(f"color: {tone('warning')};")
        self.error = self._line(f"color: {tone('error')};")
        for label in (self.note, self.feedback, self.error):
            outer.addWidget(label)

    def _line(self, style: str) -> QLabel:
        label = QLabel(self)
        label.setStyleSheet(style)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setMaximumWidth(INPUT_WIDTH + 200)
        label.hide()
        return label

    def name(self, widget: QWidget, suffix: str = "", title: str | None = None) -> None:
        name_input(widget, self.path + suffix, title or self.title, self.spec.description)

    # -- subclasses -----------------------------------------------------------------------

    def show_value(self, value: Any) -> None:
        raise NotImplementedError

    def read_value(self) -> Any:
        raise NotImplementedError

    def inputs(self) -> list[QWidget]:
        """The widgets a user types into or clicks (named after the path)."""
        raise NotImplementedError

    def fits(self, value: Any) -> bool:
        return self.spec.accepts(value)

    def check(self, value: Any) -> list[str]:
        """Live feedback on the value being edited (not errors: the server decides)."""
        return []

    # -- shared ---------------------------------------------------------------------------

    def focus_target(self) -> QWidget:
        return self.inputs()[0]

    def set_value(self, value: Any) -> None:
        self._loading = True
        try:
            self._loaded = json_copy(value)
            if value is MISSING or self.fits(value):
                self._foreign = MISSING
                self.show_value(value)
                self._set_note()
            else:
                self._foreign = json_copy(value)
                self.show_value(MISSING)
                self._set_note()
        finally:
            self._loading = False
        self._update_enabled()
        self._refresh_feedback()

    def value(self) -> Any:
        if self._foreign is not MISSING:
            return json_copy(self._foreign)
        return self.read_value()

    def user_changed(self) -> None:
        """Subclasses call this from their input signals."""
        if self._loading:
            return
        self._refresh_feedback()
        self.changed.emit()

    def set_rule(self, reason: str | None) -> None:
        if reason == self._rule_reason:
            return
        self._rule_reason = reason
        self._set_note()
        self._update_enabled()

    def rule_reason(self) -> str | None:
        return self._rule_reason

    def set_errors(self, messages: list[str]) -> None:
        self._errors = list(messages)
        self.error.setText("\n".join(messages))
        self.error.setVisible(bool(messages))

    def errors(self) -> list[str]:
        return list(self._errors)

    def placeholder(self) -> str:
        if self.options.placeholder:
            return self.options.placeholder
        if self.spec.has_default:
            return f"default: {json_text(self.spec.default)}"
        return ""

    def _set_note(self) -> None:
        parts = []
        if self._foreign is not MISSING:
            parts.append(
                f"Holds {json.dumps(self._foreign, ensure_ascii=False)[:80]}, which this field "
                "cannot show; it is kept as it is (edit it on the JSON tab)."
            )
        if self._rule_reason:
            parts.append(self._rule_reason)
        self.note.setText("\n".join(parts))
        self.note.setVisible(bool(parts))

    def _update_enabled(self) -> None:
        enabled = self._foreign is MISSING and self._rule_reason is None
        for widget in self.inputs() + self.extra_controls():
            widget.setEnabled(enabled)

    def extra_controls(self) -> list[QWidget]:
        """Buttons beside the input, disabled along with it."""
        return []

    def _refresh_feedback(self) -> None:
        messages = [] if self._foreign is not MISSING else self.check(self.read_value())
        self.feedback.setText("\n".join(messages))
        self.feedback.setVisible(bool(messages))
        self.mark_invalid(bool(messages))

    def mark_invalid(self, invalid: bool) -> None:
        pass


def _tool(text: str, tip: str, parent: QWidget) -> QToolButton:
    button = QToolButton(parent)
    button.setText(text)
    button.setToolTip(tip)
    button.setAccessibleName(tip)
    button.setAutoRaise(False)
    return button


class StringEditor(Editor):
    """A line edit with live feedback on minLength, maxLength and pattern."""

    def __init__(
        self, spec: FieldSpec, options: FieldOptions, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, options, title, parent)
        self.line = QLineEdit(self)
        self.line.setMaximumWidth(INPUT_WIDTH)
        self.line.setPlaceholderText(self.placeholder())
        self.line.setClearButtonEnabled(True)
        self.name(self.line)
        self.line.textEdited.connect(lambda _text: self.user_changed())
        self.body.addWidget(self.line, 3)
        self.body.addStretch(1)

    def inputs(self) -> list[QWidget]:
        return [self.line]

    def show_value(self, value: Any) -> None:
        self.line.setText("" if value is MISSING else str(value))

    def read_value(self) -> Any:
        text = self.line.text()
        if text == "" and self._loaded != "":
            return MISSING
        return text

    def check(self, value: Any) -> list[str]:
        if not isinstance(value, str) or value == "":
            return []
        out = []
        size = len(value.encode())
        if self.spec.min_length is not None and size < self.spec.min_length:
            out.append(f"At least {self.spec.min_length} characters ({size} now)")
        if self.spec.max_length is not None and size > self.spec.max_length:
            out.append(f"At most {self.spec.max_length} characters ({size} now)")
        if self.spec.pattern and not pattern_matches(self.spec.pattern, value):
            out.append(f"Must match {self.spec.pattern}")
        hint = self.options.options.get("hint_pattern")
        if isinstance(hint, str) and not pattern_matches(hint, value):
            out.append(str(self.options.options.get("hint_message", f"Expected {hint}")))
        return out

    def mark_invalid(self, invalid: bool) -> None:
        self.line.setStyleSheet(_invalid_input() if invalid else "")


def strong_password(min_length: int | None, max_length: int | None) -> str:
    """A strong password, 16 characters unless the schema's bounds say otherwise."""
    return generate_password(max(min_length or 0, min(16, max_length or 16), 3))


class PasswordEditor(StringEditor):
    """Masked, with a reveal toggle and a strong random generator."""

    def __init__(
        self, spec: FieldSpec, options: FieldOptions, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, options, title, parent)
        self.line.setEchoMode(QLineEdit.EchoMode.Password)
        self.reveal = _tool("Show", "Show the password", self)
        self.reveal.setCheckable(True)
        self.reveal.toggled.connect(self._reveal)
        self.generate = _tool("Generate", "Generate a strong random password", self)
        self.generate.clicked.connect(self._generate)
        self.body.insertWidget(1, self.reveal)
        self.body.insertWidget(2, self.generate)

    def extra_controls(self) -> list[QWidget]:
        return [self.reveal, self.generate]

    def _reveal(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.line.setEchoMode(mode)
        self.reveal.setText("Hide" if shown else "Show")

    def _generate(self) -> None:
        self.line.setText(strong_password(self.spec.min_length, self.spec.max_length))
        self.user_changed()


class SuggestEditor(Editor):
    """Free text with a drop-down of likely values (device types, languages, time zones)."""

    def __init__(
        self, spec: FieldSpec, options: FieldOptions, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, options, title, parent)
        self.combo = QComboBox(self)
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setMaximumWidth(INPUT_WIDTH)
        self.combo.addItems(_suggestions(options))
        completer = self.combo.completer()
        if completer is not None:
            completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        line = self.combo.lineEdit()
        if line is not None:
            line.setPlaceholderText(self.placeholder())
        self.name(self.combo)
        self.combo.editTextChanged.connect(lambda _text: self.user_changed())
        self.body.addWidget(self.combo, 3)
        self.body.addStretch(1)

    def inputs(self) -> list[QWidget]:
        return [self.combo]

    def show_value(self, value: Any) -> None:
        self.combo.setCurrentIndex(-1)
        self.combo.setEditText("" if value is MISSING else str(value))

    def read_value(self) -> Any:
        text = self.combo.currentText()
        if text == "" and self._loaded != "":
            return MISSING
        return text


def _suggestions(options: FieldOptions) -> list[str]:
    if options.options.get("source") == "timezones":
        return sorted(zoneinfo.available_timezones())
    return [str(s) for s in options.options.get("suggestions", [])]


class UserPickerEditor(Editor):
    """An owner id chosen by user name; ids of users not in the list stay selectable."""

    def __init__(
        self, spec: FieldSpec, options: FieldOptions, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, options, title, parent)
        self.combo = QComboBox(self)
        self.combo.setMaximumWidth(INPUT_WIDTH)
        self.combo.setMinimumContentsLength(24)
        self.name(self.combo)
        self._users: list[dict[str, Any]] = []
        self._current: Any = MISSING
        self._filling = False
        self._fill()
        self.combo.currentIndexChanged.connect(self._picked)
        self.body.addWidget(self.combo, 3)
        self.body.addStretch(1)

    def set_users(self, users: list[dict[str, Any]]) -> None:
        self._users = sorted(users, key=lambda u: (_user_label(u).lower(), str(u.get("id"))))
        loading, self._loading = self._loading, True
        try:
            self._fill()
        finally:
            self._loading = loading

    def _fill(self) -> None:
        # Item data is never None: PySide6 6.12 drops a reference to None each time it hands
        # back an empty QVariant, which eventually crashes the interpreter.
        self._filling = True
        try:
            self.combo.clear()
            self.combo.addItem("(no owner)", "")
            ids = set()
            for user in self._users:
                ids.add(str(user.get("id", "")))
                self.combo.addItem(_user_label(user), str(user.get("id", "")))
            current = self._current
            if isinstance(current, str) and current not in ids:
                self.combo.addItem(f"Unknown user ({current})", current)
            index = 0 if current is MISSING else self.combo.findData(current)
            self.combo.setCurrentIndex(max(index, 0))
        finally:
            self._filling = False

    def _picked(self, _index: int) -> None:
        if self._filling:
            return
        data = self.combo.currentData() if self.combo.currentIndex() >= 0 else ""
        self._current = data if isinstance(data, str) and data else MISSING
        self.user_changed()

    def inputs(self) -> list[QWidget]:
        return [self.combo]

    def show_value(self, value: Any) -> None:
        self._current = value
        self._fill()

    def read_value(self) -> Any:
        return self._current


def _user_label(user: dict[str, Any]) -> str:
    name = " ".join(str(user.get(k) or "") for k in ("first_name", "last_name")).strip()
    username = user.get("username")
    if name and username:
        return f"{name} ({username})"
    return name or str(username or user.get("id", "?"))


class IntegerEditor(Editor):
    """A spin box within the schema's bounds; its lowest position means "not set"."""

    LIMIT: Final = 2_000_000_000

    def __init__(
        self, spec: FieldSpec, options: FieldOptions, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, options, title, parent)
        self.low, self.high = self._bounds()
        self.spin = self._make_spin()
        self.spin.setRange(self.low - 1, self.high)
        not_set = "not set"
        if spec.has_default:
            not_set += f" (default {json_text(spec.default)})"
        self.spin.setSpecialValueText(not_set)
        self.spin.setMinimumWidth(170)
        self.spin.setMaximumWidth(220)
        self.spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.name(self.spin)
        self.spin.valueChanged.connect(lambda _v: self.user_changed())
        self.clear = _tool("Clear", f"Unset {title}", self)
        self.clear.clicked.connect(self._clear)
        self.body.addWidget(self.spin)
        self.body.addWidget(self.clear)
        self.body.addStretch(1)

    def _make_spin(self) -> QSpinBox | QDoubleSpinBox:
        return QSpinBox(self)

    def _bounds(self) -> tuple[int, int]:
        spec = self.spec
        low = -self.LIMIT if spec.minimum is None else int(spec.minimum)
        high = self.LIMIT if spec.maximum is None else int(spec.maximum)
        return low + (1 if spec.exclusive_minimum else 0), high - (
            1 if spec.exclusive_maximum else 0
        )

    def extra_controls(self) -> list[QWidget]:
        return [self.clear]

    def _clear(self) -> None:
        self.spin.setValue(self.spin.minimum())  # type: ignore[arg-type]

    def inputs(self) -> list[QWidget]:
        return [self.spin]

    def fits(self, value: Any) -> bool:
        return self.spec.accepts(value) and self.low <= value <= self.high

    def show_value(self, value: Any) -> None:
        self.spin.setValue(self.spin.minimum() if value is MISSING else value)  # type: ignore[arg-type]

    def read_value(self) -> Any:
        value = self.spin.value()
        return MISSING if value == self.spin.minimum() else int(value)


class NumberEditor(IntegerEditor):
    def _make_spin(self) -> QSpinBox | QDoubleSpinBox:
        spin = QDoubleSpinBox(self)
        spin.setDecimals(4)
        return spin

    def fits(self, value: Any) -> bool:
        return self.spec.accepts(value) and self.low <= value <= self.high

    def read_value(self) -> Any:
        value = self.spin.value()
        if value == self.spin.minimum():
            return MISSING
        return int(value) if float(value).is_integer() and isinstance(self._loaded, int) else value


class BoolEditor(Editor):
    """A tri-state check box: the third state is "not set" (and says the default, if any)."""

    def __init__(
        self, spec: FieldSpec, options: FieldOptions, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, options, title, parent)
        self.box = QCheckBox(self)
        self.box.setTristate(True)
        self.name(self.box)
        self.box.checkStateChanged.connect(self._toggled)
        self.body.addWidget(self.box)
        self.body.addStretch(1)

    def _toggled(self, _state: Qt.CheckState) -> None:
        self._label()
        self.user_changed()

    def _label(self) -> None:
        state = self.box.checkState()
        if state == Qt.CheckState.PartiallyChecked:
            text = "not set"
            if self.spec.has_default:
                text += f" (default: {'on' if self.spec.default else 'off'})"
        else:
            text = "on" if state == Qt.CheckState.Checked else "off"
        self.box.setText(text)

    def inputs(self) -> list[QWidget]:
        return [self.box]

    def show_value(self, value: Any) -> None:
        if value is MISSING:
            state = Qt.CheckState.PartiallyChecked
        else:
            state = Qt.CheckState.Checked if value else Qt.CheckState.Unchecked
        self.box.setCheckState(state)
        self._label()

    def read_value(self) -> Any:
        state = self.box.checkState()
        if state == Qt.CheckState.PartiallyChecked:
            return MISSING
        return state == Qt.CheckState.Checked


class EnumEditor(Editor):
    """A combo box of the enum's values, led by "(not set)"."""

    def __init__(
        self, spec: FieldSpec, options: FieldOptions, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, options, title, parent)
        self.combo = QComboBox(self)
        self.combo.setMaximumWidth(INPUT_WIDTH)
        self.combo.setMinimumContentsLength(12)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        not_set = "(not set)"
        if spec.has_default:
            not_set = f"(not set: default {json_text(spec.default)})"
        self.combo.addItem(not_set, -1)
        self._values = list(spec.enum or ())
        for index, option in enumerate(self._values):
            self.combo.addItem(json_text(option), index)
        self.name(self.combo)
        self.combo.currentIndexChanged.connect(lambda _i: self.user_changed())
        self.body.addWidget(self.combo)
        self.body.addStretch(1)

    def inputs(self) -> list[QWidget]:
        return [self.combo]

    def show_value(self, value: Any) -> None:
        index = 0
        if value is not MISSING:
            index = next(
                (i + 1 for i, option in enumerate(self._values) if _same(option, value)), 0
            )
        self.combo.setCurrentIndex(index)

    def read_value(self) -> Any:
        index = self.combo.currentData()
        if not isinstance(index, int) or index < 0:
            return MISSING
        return json_copy(self._values[index])


def _same(a: Any, b: Any) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


class JsonEditor(Editor):
    """Raw JSON for what has no better widget (free objects, recursive metaflows...)."""

    def __init__(
        self, spec: FieldSpec, options: FieldOptions, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, options, title, parent)
        self.text = QPlainTextEdit(self)
        self.text.setFont(monospace())
        self.text.setTabChangesFocus(True)
        self.text.setPlaceholderText(self.placeholder() or "JSON; empty = not set")
        self.text.setMaximumWidth(INPUT_WIDTH + 200)
        self.text.setFixedHeight(88)
        self.name(self.text)
        self._good: Any = MISSING
        self.text.textChanged.connect(self._edited)
        self.body.addWidget(self.text, 3)
        self.body.addStretch(1)

    def fits(self, value: Any) -> bool:
        return True

    def inputs(self) -> list[QWidget]:
        return [self.text]

    def show_value(self, value: Any) -> None:
        self._good = json_copy(value)
        self.text.setPlainText(
            "" if value is MISSING else json.dumps(value, indent=2, ensure_ascii=False)
        )

    def _edited(self) -> None:
        if self._loading:
            return
        text = self.text.toPlainText().strip()
        if not text:
            self._good = MISSING
        else:
            with contextlib.suppress(ValueError):
                self._good = json.loads(text)
        self.user_changed()

    def read_value(self) -> Any:
        return json_copy(self._good)

    def check(self, value: Any) -> list[str]:
        text = self.text.toPlainText().strip()
        if not text:
            return []
        try:
            json.loads(text)
        except ValueError as exc:
            return [f"Not valid JSON ({exc}); the last valid value is kept"]
        return []

    def mark_invalid(self, invalid: bool) -> None:
        self.text.setStyleSheet(_invalid_input() if invalid else "")


def monospace() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


SCALAR_EDITORS: Final[dict[Kind, type[Editor]]] = {
    Kind.STRING: StringEditor,
    Kind.INTEGER: IntegerEditor,
    Kind.NUMBER: NumberEditor,
    Kind.BOOLEAN: BoolEditor,
    Kind.ENUM: EnumEditor,
    Kind.ANY: JsonEditor,
}
