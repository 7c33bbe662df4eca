"""Where KazooDesk keeps its files (each OS's conventional places, via platformdirs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_path, user_config_path, user_data_path, user_log_path

APP_NAME = "kazoodesk"
DEMO_DIR = "demo"  # the app's demo store, beside (not shared with) `serve`'s default one


def default_data_dir() -> Path:
    return user_data_path(APP_NAME, appauthor=False)


def default_config_dir() -> Path:
    return user_config_path(APP_NAME, appauthor=False)


def default_log_dir() -> Path:
    return user_log_path(APP_NAME, appauthor=False)


def default_cache_dir() -> Path:
    """What can be thrown away and rebuilt from a server (the offline device lists)."""
    return user_cache_path(APP_NAME, appauthor=False)


@dataclass(frozen=True)
class AppDirs:
    """The directories one run of the app uses (shown in the About dialog)."""

    demo: Path  # the demo server's store
    config: Path
    cache: Path
    log: Path

    @classmethod
    def default(cls, demo: Path | None = None) -> AppDirs:
        """The user's conventional places; `demo` overrides the demo's store (`--data`)."""
        return cls(
            demo=demo or default_data_dir() / DEMO_DIR,
            config=default_config_dir(),
            cache=default_cache_dir(),
            log=default_log_dir(),
        )
