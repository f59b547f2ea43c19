"""The settings dialog's model-server page, beyond its plain `Key` editors: the API key, "Test connection",
"Fetch model list", and the consent asked before pictures go to a host for the first time.

- The API key field is write-only: what is typed goes to the OS keyring (`assistant.remote.keys`, in a
  job) when the dialog is saved, and the field is emptied. It never reaches `Settings` (QSettings).
- "Test connection" and "Fetch model list" ask the server in jobs (`JobRunner`), so the GUI thread never
  waits on the network; the answer is shown under the buttons and told to the screen reader.
- Turning the server on, or pointing it at a new host, opens a question that names the host and what
  would be sent there; only a "Yes" stores that host as agreed (`Settings.set_server_consent`), and
  `stored_config` uses the server only for the agreed host.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QWidget,
)

from assistant.errors import AssistantError
from assistant.remote.address import parse_server_url
from assistant.remote.describer import RemoteDescriber, ServerSettings
from ui.settings import Key, KeySpec, Settings
from ui.workers import JobRunner

Tell = Callable[[str, bool], None]


def consent_text(host: str) -> str:
    return (
        f"Send pictures to the model server {host}?\n\n"
        "Pictures you ask about in detail, your questions about them and documents you ask to read will "
        f"go to {host}, and whoever runs it can see them. Brief descriptions (unless you pin them to the "
        "server), narration and captions stay on this computer. Each kind of command can be kept on this "
        "computer, and the server turned off, at any time in these settings."
    )


class ServerPanel(QObject):
    """The extra rows of the model-server page (see the module docstring)."""

    def __init__(
        self,
        form: QFormLayout,
        editors: dict[KeySpec[Any], QWidget],
        settings: Settings,
        jobs: JobRunner | None,
        tell: Tell | None,
        dialog: QWidget,
    ) -> None:
        super().__init__(dialog)
        self._editors = editors
        self._settings = settings
        self._jobs = jobs
        self._tell = tell
        self._dialog = dialog
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("server_key")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setAccessibleName("API key")
        self.key_edit.setAccessibleDescription(
            "kept in the system keyring, never in the settings file; leave empty to keep the stored key"
        )
        self.key_edit.setPlaceholderText("leave empty to keep the stored key")
        self.test_button = QPushButton("&Test connection")
        self.test_button.setAccessibleName("Test connection")
        self.fetch_button = QPushButton("Fetch model &list")
        self.fetch_button.setAccessibleName("Fetch model list")
        for button in (self.test_button, self.fetch_button):
            button.setEnabled(jobs is not None)
        self.message = QLabel()
        self.message.setObjectName("server_message")
        self.message.setAccessibleName("Model server message")
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.fetch_button)
        form.addRow("API key:", self.key_edit)
        form.addRow(buttons)
        form.addRow(self.message)
        self.consent_box: QMessageBox | None = None
        self.test_button.clicked.connect(self._on_test_clicked)
        self.fetch_button.clicked.connect(self._on_fetch_clicked)

    def refresh(self) -> None:
        self.key_edit.clear()
        self.message.clear()

    def _say(self, text: str, assertive: bool = False) -> None:
        self.message.setText(text)
        if self._tell is not None:
            self._tell(text, assertive)

    # -- what the page shows now ----------------------------------------------------------------------

    def _text(self, key: KeySpec[str]) -> str:
        editor = self._editors[key]
        assert isinstance(editor, QLineEdit)
        return editor.text().strip()

    def _enabled(self) -> QCheckBox:
        editor = self._editors[Key.SERVER_ENABLED]
        assert isinstance(editor, QCheckBox)
        return editor

    def _describer(self) -> RemoteDescriber:
        """A describer for what the page shows (not yet saved). Raises `AssistantError` for a bad address."""
        timeout, size = self._editors[Key.SERVER_TIMEOUT], self._editors[Key.SERVER_IMAGE_SIZE]
        insecure = self._editors[Key.SERVER_ALLOW_INSECURE]
        assert isinstance(timeout, QDoubleSpinBox) and isinstance(size, QSpinBox)
        assert isinstance(insecure, QCheckBox)
        settings = ServerSettings(
            url=self._text(Key.SERVER_URL),
            model=self._text(Key.SERVER_MODEL),
            first_token_timeout=timeout.value(),
            image_size=size.value(),
            allow_insecure=insecure.isChecked(),
        )
        typed = self.key_edit.text().strip()
        host = parse_server_url(settings.url).display

        def key() -> str | None:
            # Runs in the job: a keyring lookup may wait on D-Bus.
            from assistant.remote.keys import server_key

            return typed or server_key(host)

        return RemoteDescriber(settings, api_key=key)

    # -- the buttons ----------------------------------------------------------------------------------

    def _on_test_clicked(self) -> None:
        self._ask_server("testing the connection", lambda describer: describer.test_connection(), self._say)

    def _on_fetch_clicked(self) -> None:
        self._ask_server(
            "fetching the model list", lambda describer: describer.list_models(), self._on_models
        )

    def _ask_server(
        self, what: str, call: Callable[[RemoteDescriber], Any], done: Callable[[Any], None]
    ) -> None:
        if self._jobs is None:
            return
        try:
            describer = self._describer()
        except AssistantError as error:
            self._say(str(error), assertive=True)
            return
        self._say(f"{what[0].upper()}{what[1:]} with {describer.host}…")
        self._jobs.submit(f"server: {what}", lambda: call(describer), done, lambda m: self._say(m, True))

    def _on_models(self, models: list[str]) -> None:
        if not models:
            self._say("The server offers no models.", assertive=True)
            return
        model_editor = self._editors[Key.SERVER_MODEL]
        assert isinstance(model_editor, QLineEdit)
        chosen = ""
        if not model_editor.text().strip() or len(models) == 1:
            model_editor.setText(models[0])
            chosen = f" Server model set to {models[0]}."
        self._say(f"The server offers {len(models)}: {', '.join(models)}.{chosen}")

    # -- saving ---------------------------------------------------------------------------------------

    def ready_to_save(self, then: Callable[[], None]) -> bool:
        """True when the dialog may save now. False when the address is unusable (said), or when the user
        must first agree to send pictures to a new host: the question is then open, and `then` runs again
        once it is answered."""
        url = self._text(Key.SERVER_URL)
        host = ""
        if url:
            try:
                host = parse_server_url(url).display
            except AssistantError as error:
                if self._enabled().isChecked():
                    self._say(str(error), assertive=True)
                    return False
        if self._enabled().isChecked() and not url:
            self._say("Give the server address first, or turn the model server off.", assertive=True)
            return False
        if self._enabled().isChecked() and host != self._settings.server_consent():
            self._ask_consent(host, then)
            return False
        if host and self.key_edit.text().strip():
            self._store_key(host, self.key_edit.text().strip())
        self.key_edit.clear()
        return True

    def _ask_consent(self, host: str, then: Callable[[], None]) -> None:
        box = QMessageBox(self._dialog)
        box.setObjectName("server_consent")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Send pictures to a server?")
        box.setText(consent_text(host))
        box.setAccessibleName("Send pictures to a server?")
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.consent_box = box

        def answered(_result: int) -> None:
            self.consent_box = None
            box.deleteLater()
            if box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Yes:
                self._settings.set_server_consent(host)
            else:
                self._enabled().setChecked(False)
                self._say(f"Nothing will be sent to {host}: the model server stays off.")
            then()

        box.finished.connect(answered)
        box.open()
        if self._tell is not None:
            self._tell(consent_text(host).replace("\n\n", " "), True)

    def _store_key(self, host: str, key: str) -> None:
        if self._jobs is None:
            return
        from assistant.remote.keys import store_key

        self._jobs.submit(
            "server: storing the key",
            lambda: store_key(host, key),
            lambda _done: self._say(f"The API key for {host} is kept in the system keyring."),
            lambda message: self._say(message, assertive=True),
        )
