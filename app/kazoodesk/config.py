"""Where KazooDesk keeps its files (each OS's conventional places, via platformdirs)."""

from pathlib import Path

from platformdirs import user_data_path

APP_NAME = "kazoodesk"


def default_data_dir() -> Path:
    return user_data_path(APP_NAME, appauthor=False)
