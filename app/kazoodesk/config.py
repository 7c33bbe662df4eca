"""Where KazooDesk keeps its files (each OS's conventional places, via platformdirs)."""

from pathlib import Path

from platformdirs import user_cache_path, user_config_path, user_data_path, user_log_path

APP_NAME = "kazoodesk"


def default_data_dir() -> Path:
    return user_data_path(APP_NAME, appauthor=False)


def default_config_dir() -> Path:
    return user_config_path(APP_NAME, appauthor=False)


def default_log_dir() -> Path:
    return user_log_path(APP_NAME, appauthor=False)


def default_cache_dir() -> Path:
    """What can be thrown away and rebuilt from a server (the offline device lists)."""
    return user_cache_path(APP_NAME, appauthor=False)
