"""Connect to a Kazoo server: a remembered profile or a new one, the secret from the keyring."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLineEdit,
    QRadioButton,
    QWidget,
)

from kazoodesk.profiles import Profile, ProfileStore, keyring_available, load_secret
from kazoodesk.ui.dialogs.device_dialogs import FormDialog


class ConnectDialog(FormDialog):
    """Server URL, then either account + user + password or an API key."""

    def __init__(
        self, store: ProfileStore, initial: Profile | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__("Connect to a Kazoo server", parent)
        self.store = store
        self.profiles = store.load()
        self.recent = QComboBox(self)
        self.recent.setObjectName("connect.profile")
        self.recent.setAccessibleName("Recent connections")
        self.recent.addItem("(new connection)")
        for profile in self.profiles:
            self.recent.addItem(profile.name)
        self.form.addRow("Recent", self.recent)
        self.server = self.line("connect.server", "Server", "https://kazoo.example.com:8443/v2")
        self.by_password = QRadioButton("Account, user and password", self)
        self.by_password.setObjectName("connect.by_password")
        self.by_key = QRadioButton("API key", self)
        self.by_key.setObjectName("connect.by_key")
        self.by_password.setChecked(True)
        self.form.addRow("Log in with", self.by_password)
        self.form.addRow("", self.by_key)
        self.account = self.line("connect.account", "Account name", "e.g. Demo Co")
        self.username = self.line("connect.username", "User name")
        self.secret = self.line("connect.secret", "Password")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Remember the secret in the system keyring", self)
        self.remember.setObjectName("connect.remember")
        if not keyring_available():
            self.remember.setEnabled(False)
            self.remember.setText("No system keyring: the secret is asked each time")
        self.form.addRow("", self.remember)
        self.by_key.toggled.connect(self._mode_changed)
        self.recent.currentIndexChanged.connect(self._pick)
        if initial is not None:
            self.show_profile(initial)
        elif self.profiles:
            self.recent.setCurrentIndex(1)
        self.resize(480, self.sizeHint().height())

    def show_profile(self, profile: Profile) -> None:
        self.server.setText(profile.server)
        self.by_key.setChecked(profile.use_api_key)
        self.by_password.setChecked(not profile.use_api_key)
        self.account.setText(profile.account_name)
        self.username.setText(profile.username)
        self.secret.setText(load_secret(profile) or "")
        self.remember.setChecked(keyring_available() and bool(self.secret.text()))

    def profile(self) -> Profile:
        return Profile(
            server=self.server.text().strip(),
            account_name="" if self.by_key.isChecked() else self.account.text().strip(),
            username="" if self.by_key.isChecked() else self.username.text().strip(),
            use_api_key=self.by_key.isChecked(),
        )

    def check(self) -> str:
        profile = self.profile()
        if not profile.server.startswith(("http://", "https://")):
            return "The server is a URL starting with http:// or https://"
        if not profile.use_api_key and not (profile.account_name and profile.username):
            return "Account name and user name are required."
        if not self.secret.text():
            return (
                "The API key is required." if profile.use_api_key else "The password is required."
            )
        return ""

    def _pick(self, index: int) -> None:
        if index > 0:
            self.show_profile(self.profiles[index - 1])

    def _mode_changed(self, by_key: bool) -> None:
        for widget in (self.account, self.username):
            widget.setEnabled(not by_key)
        self.secret.setAccessibleName("API key" if by_key else "Password")
        label = self.form.labelForField(self.secret)
        if label is not None:
            label.setText("API key" if by_key else "Password")  # type: ignore[attr-defined]
