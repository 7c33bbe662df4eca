"""The schema-driven device editor."""

from kazoodesk.ui.editor._none_guard import guard_none

guard_none()
