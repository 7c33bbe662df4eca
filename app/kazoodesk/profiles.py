"""Connection profiles (server, account, user) in the config dir; their secrets in the OS keyring.

A secret is never written to a file: with no usable keyring backend the app asks each time.
`keyring` (~30 ms of imports, and a backend probe) is imported on the first secret asked for,
not at start: the window shows its cached list before anything needs a secret.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from kazoodesk.config import default_config_dir

KEYRING_SERVICE = "kazoodesk"
PROFILES_FILE = "profiles.json"


@dataclass(frozen=True)
class Profile:
    server: str  # base URL of the Crossbar API, e.g. https://kazoo.example.com:8443/v2
    account_name: str = ""  # with username: PUT /user_auth
    username: str = ""
    use_api_key: bool = False  # PUT /api_auth with a key kept in the keyring

    @property
    def name(self) -> str:
        who = "API key" if self.use_api_key else f"{self.username}@{self.account_name}"
        return f"{who} on {self.server}"

    @property
    def secret_key(self) -> str:
        """The keyring entry's user name: one secret per server, account and login."""
        who = "api_key" if self.use_api_key else f"{self.account_name}/{self.username}"
        return f"{self.server}|{who}"


class ProfileStore:
    """Profiles in `<config dir>/profiles.json`, most recently used first."""

    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or default_config_dir()) / PROFILES_FILE

    def load(self) -> list[Profile]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            return []  # an unreadable file loses nothing the user cannot type again
        profiles = []
        for item in raw if isinstance(raw, list) else []:
            try:
                profiles.append(Profile(**item))
            except TypeError:
                continue
        return profiles

    def remember(self, profile: Profile) -> None:
        """Put `profile` first (replacing an equal one) and write the file atomically."""
        profiles = [profile] + [p for p in self.load() if p != profile]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps([asdict(p) for p in profiles], indent=2), "utf-8")
        os.replace(temporary, self.path)

    def forget(self, profile: Profile) -> None:
        profiles = [p for p in self.load() if p != profile]
        if self.path.exists():
            self.path.write_text(json.dumps([asdict(p) for p in profiles], indent=2), "utf-8")
        delete_secret(profile)


def keyring_available() -> bool:
    """Whether an OS keyring backend is there to hold secrets."""
    import keyring
    from keyring.backends import fail

    return not isinstance(keyring.get_keyring(), fail.Keyring)


def load_secret(profile: Profile) -> str | None:
    if not keyring_available():
        return None
    import keyring
    import keyring.errors

    try:
        return keyring.get_password(KEYRING_SERVICE, profile.secret_key)
    except keyring.errors.KeyringError:
        return None


def store_secret(profile: Profile, secret: str) -> bool:
    """Keep `secret` in the keyring; False when there is none (the app then asks next time)."""
    if not keyring_available():
        return False
    import keyring
    import keyring.errors

    try:
        keyring.set_password(KEYRING_SERVICE, profile.secret_key, secret)
    except keyring.errors.KeyringError:
        return False
    return True


def delete_secret(profile: Profile) -> None:
    if not keyring_available():
        return
    import keyring
    import keyring.errors

    try:
        keyring.delete_password(KEYRING_SERVICE, profile.secret_key)
    except keyring.errors.KeyringError:
        return  # nothing stored for it
