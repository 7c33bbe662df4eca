"""Dialogs, all awaited through open() + finished, never exec()."""
