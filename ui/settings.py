"""The one typed settings store: every persisted choice is a `Key` with its area, type, default and label.

`Settings` wraps `QSettings`. Tests (and `--settings FILE`) point it at an ini file so they never touch the
user's real settings. The settings dialog is built from `KEYS`, so adding a key here adds its control.
Shortcut overrides live under `shortcuts/<command id>` and are read through `shortcut()`; system-wide
keys under `global_shortcuts/<command id>` (`global_shortcut()`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings

from assistant.session import Config, Route
from assistant.sounds.alerts import DEFAULT_SENSITIVITY, AlertSettings
from assistant.sounds.classifier import OFF_BY_DEFAULT
from assistant.vision.narrator import NarrationSettings

ORGANIZATION = "assistant"
APPLICATION = "assistant"


class Area(enum.Enum):
    """Groups of settings; each is one page of the settings dialog (shortcuts have their own page)."""

    DEVICES = "Devices"
    MODELS = "Models and engines"
    SPEECH = "Speech"
    NARRATION = "Narration"
    CAPTIONS = "Captions"
    APPEARANCE = "Appearance"
    DESKTOP = "Desktop"
    SERVER = "Model server"
    SOUND_ALERTS = "Sound alerts"


SettingValue = TypeVar("SettingValue", str, int, float, bool)

ROUTE_CHOICES = tuple(route.value for route in Route)
ROUTE_HELP = "server: the model server whenever it is on; on-device: always this computer, nothing is sent"


@dataclass(frozen=True)
class KeySpec(Generic[SettingValue]):
    """One persisted choice; `Settings.get` returns the type of its default."""

    name: str  # the QSettings key, "<area>/<name>"
    area: Area
    default: SettingValue
    label: str
    description: str = ""
    choices: tuple[str, ...] = ()  # for str keys shown as a list
    minimum: float = 0.0
    maximum: float = 0.0  # for numbers; 0 = no range
    step: float = 1.0


class Key:
    """Typed settings keys (Buzz's `Settings.Key`), grouped by area."""

    # Per-sound alert choices: the sounds are the two alarms, the taught sounds and the classifier's
    # labels, so there is one key of each kind per sound (not in `KEYS`: the "Sound alerts" page has
    # its own panel, which asks before a smoke or CO alarm is switched off).
    @staticmethod
    def sound_alerts_on(sound: str) -> KeySpec[bool]:
        return KeySpec(
            f"{_SOUND_ON}/{_sound_key(sound)}", Area.SOUND_ALERTS, sound not in OFF_BY_DEFAULT,
            f"Alerts for {sound}",
        )  # fmt: skip

    @staticmethod
    def sound_sensitivity(sound: str) -> KeySpec[float]:
        return KeySpec(
            f"{_SOUND_SENSITIVITY}/{_sound_key(sound)}", Area.SOUND_ALERTS, DEFAULT_SENSITIVITY,
            f"Sensitivity for {sound}", "0 to 1: higher alerts on fainter or less certain sounds",
            minimum=0.0, maximum=1.0, step=0.1,
        )  # fmt: skip

    MICROPHONE = KeySpec(
        "devices/microphone",
        Area.DEVICES,
        "mic",
        "Caption source",
        "mic, system (what the computer plays), a device name or number, or an audio file",
    )
    CAMERA = KeySpec(
        "devices/camera", Area.DEVICES, "0", "Camera", "a camera number, a stream address or a video file"
    )
    SPEECH_ENGINE = KeySpec(
        "models/speech_engine",
        Area.MODELS,
        "faster-whisper",
        "Recognition engine",
        choices=("faster-whisper", "openai-whisper"),
    )
    SPEECH_MODEL = KeySpec("models/speech_model", Area.MODELS, "tiny.en", "Recognition model")
    SCENE_MODEL = KeySpec("models/scene_model", Area.MODELS, "florence-2-base", "Scene description model")
    VOICE_OUTPUT = KeySpec(
        "speech/output",
        Area.SPEECH,
        "automatic",
        "Speak results with",
        "automatic: your screen reader when one is running, else the built-in voice; voice: the built-in "
        "voice; screen reader: your screen reader's voice; off: text only",
        choices=("automatic", "voice", "screen reader", "off"),
    )
    VOICE = KeySpec(
        "speech/voice", Area.SPEECH, "", "Voice", "an eSpeak NG voice name; empty for the default"
    )
    RATE = KeySpec(
        "speech/rate", Area.SPEECH, 175, "Rate (words per minute)", minimum=80, maximum=450, step=5
    )
    VOLUME = KeySpec("speech/volume", Area.SPEECH, 1.0, "Volume", minimum=0.0, maximum=1.0, step=0.05)
    ANNOUNCE_CAPTIONS = KeySpec(
        "speech/announce_captions", Area.SPEECH, False, "Announce final captions to the screen reader"
    )
    NARRATION_CHANGE = KeySpec(
        "narration/change_threshold",
        Area.NARRATION,
        0.5,
        "Scene change needed (0 to 1)",
        minimum=0.05,
        maximum=1.0,
        step=0.05,
    )
    NARRATION_STABLE = KeySpec(
        "narration/stable_seconds",
        Area.NARRATION,
        1.0,
        "Stillness before describing (s)",
        minimum=0.0,
        maximum=10.0,
        step=0.5,
    )
    NARRATION_GAP = KeySpec(
        "narration/min_gap_seconds",
        Area.NARRATION,
        2.0,
        "Least time between descriptions (s)",
        minimum=0.0,
        maximum=60.0,
        step=0.5,
    )
    FIND_TONE = KeySpec("find/tone", Area.NARRATION, True, "Guidance tone while finding something")
    CAPTIONS_AT_START = KeySpec("captions/at_start", Area.CAPTIONS, True, "Start captions when the app opens")
    ALERTS_WITH_CAPTIONS = KeySpec(
        "captions/alerts", Area.CAPTIONS, True, "Sound alerts (alarms, doorbell…) whenever captions start"
    )
    LANGUAGE = KeySpec(
        "captions/language", Area.CAPTIONS, "en", "Spoken language", "a code such as en, or auto"
    )
    TRANSLATE = KeySpec("captions/translate", Area.CAPTIONS, False, "Translate to English")
    VOCABULARY = KeySpec(
        "captions/vocabulary", Area.CAPTIONS, "", "Vocabulary", "names and terms to prefer, comma separated"
    )
    OVERLAY_AT_START = KeySpec(
        "appearance/overlay_at_start", Area.APPEARANCE, False, "Show the caption overlay"
    )
    OVERLAY_FONT = KeySpec("appearance/overlay_font", Area.APPEARANCE, "Sans Serif", "Overlay font")
    OVERLAY_SIZE = KeySpec(
        "appearance/overlay_size", Area.APPEARANCE, 28, "Overlay text size (pt)", minimum=8, maximum=120
    )
    OVERLAY_PRESET = KeySpec(
        "appearance/overlay_colours",
        Area.APPEARANCE,
        "white on black",
        "Overlay colours",
        choices=("white on black", "yellow on black", "black on white", "black on yellow", "green on black"),
    )
    OVERLAY_LINES = KeySpec(
        "appearance/overlay_lines", Area.APPEARANCE, 3, "Overlay lines", minimum=1, maximum=12
    )
    OVERLAY_OPACITY = KeySpec(
        "appearance/overlay_opacity",
        Area.APPEARANCE,
        0.85,
        "Overlay opacity",
        minimum=0.3,
        maximum=1.0,
        step=0.05,
    )
    OVERLAY_POSITION = KeySpec(
        "appearance/overlay_position",
        Area.APPEARANCE,
        "bottom",
        "Overlay starts at",
        choices=("bottom", "top", "remembered"),
    )
    SHOW_PREVIEW = KeySpec("appearance/show_preview", Area.APPEARANCE, True, "Show the camera preview")
    START_HIDDEN = KeySpec(
        "desktop/start_hidden",
        Area.DESKTOP,
        False,
        "Start hidden (in the tray, or minimised without one)",
        "the system-wide keys, the tray icon and `assistant send` still work",
    )
    START_AT_LOGIN = KeySpec(
        "desktop/start_at_login",
        Area.DESKTOP,
        False,
        "Start the assistant when I log in",
        "adds or removes an entry in your desktop's autostart folder",
    )
    SERVER_ENABLED = KeySpec(
        "server/enabled",
        Area.SERVER,
        False,
        "Use a model server for detailed descriptions, questions and reading",
        "pictures you ask about go to the server; brief descriptions, narration and captions stay here "
        "unless you pin them below",
    )
    SERVER_URL = KeySpec(
        "server/url",
        Area.SERVER,
        "",
        "Server address",
        "an OpenAI-compatible server (vLLM, Ollama, llama.cpp, transformers serve), e.g. http://192.168.1.20:8000",
    )
    SERVER_MODEL = KeySpec(
        "server/model", Area.SERVER, "", "Server model", "empty: the first model the server offers"
    )
    SERVER_TIMEOUT = KeySpec(
        "server/timeout",
        Area.SERVER,
        8.0,
        "Wait for the server's first words (s)",
        "after this the on-device model answers, and you hear why",
        minimum=1.0,
        maximum=120.0,
        step=1.0,
    )
    SERVER_IMAGE_SIZE = KeySpec(
        "server/image_size",
        Area.SERVER,
        768,
        "Picture size sent (pixels, long side)",
        minimum=256,
        maximum=4096,
        step=64,
    )
    SERVER_ALLOW_INSECURE = KeySpec(
        "server/allow_insecure",
        Area.SERVER,
        False,
        "Allow unencrypted http:// to a server outside this computer and network",
    )
    # Where each command that can go to the server is answered (`Route`, `Config.routes`).
    ROUTE_BRIEF = KeySpec(
        "server/route_describe_brief",
        Area.SERVER,
        "auto",
        "Brief descriptions are answered by",
        "describe now, the screen, the active window, around the pointer, the clipboard, a file. "
        "auto: this computer; " + ROUTE_HELP + ". Narration always stays on this computer",
        choices=ROUTE_CHOICES,
    )
    ROUTE_DETAILED = KeySpec(
        "server/route_describe_detailed",
        Area.SERVER,
        "auto",
        "Detailed descriptions are answered by",
        "auto: the server when it is on; " + ROUTE_HELP,
        choices=ROUTE_CHOICES,
    )
    ROUTE_ASK = KeySpec(
        "server/route_ask",
        Area.SERVER,
        "auto",
        "Questions are answered by",
        "typed and spoken questions. auto: the server when it is on; " + ROUTE_HELP,
        choices=ROUTE_CHOICES,
    )
    ROUTE_READ = KeySpec(
        "server/route_read",
        Area.SERVER,
        "auto",
        "Reading text is answered by",
        "read text, read the active window's text. auto: the server when it is on; " + ROUTE_HELP,
        choices=ROUTE_CHOICES,
    )


KEYS: tuple[KeySpec[Any], ...] = tuple(value for value in vars(Key).values() if isinstance(value, KeySpec))
"""Every key, in the order the settings dialog shows them."""
ROUTE_KEYS: dict[str, KeySpec[str]] = {
    "describe-brief": Key.ROUTE_BRIEF,
    "describe-detailed": Key.ROUTE_DETAILED,
    "ask": Key.ROUTE_ASK,
    "read": Key.ROUTE_READ,
}
"""The setting that pins each of the session's `ROUTED_COMMANDS`."""

_SOUND_ON = "sound_alerts/on"
_SOUND_SENSITIVITY = "sound_alerts/sensitivity"


def _sound_key(sound: str) -> str:
    """A sound's name as one settings key: "/" separates groups, so it is stored as a division slash."""
    return sound.replace("/", "\u2215")


# Window geometry is state, not a choice the user makes in the dialog, so it is not a `Key`.
_OVERLAY_GEOMETRY = "state/overlay_geometry"
_WINDOW_GEOMETRY = "state/window_geometry"
# The server host the user agreed to send pictures to (`ui.server_settings` asks): state, not a choice.
_SERVER_CONSENT = "state/server_consent"


def _coerce(raw: Any, default: SettingValue) -> SettingValue:
    """QSettings' ini backend returns strings; turn them back into the key's type."""
    if isinstance(default, bool):
        if isinstance(raw, str):
            return raw.strip().lower() in ("true", "1", "yes", "on")
        return bool(raw)
    try:
        if isinstance(default, int):
            return int(float(raw))
        if isinstance(default, float):
            return float(raw)
    except (TypeError, ValueError):
        return default
    return "" if raw is None else str(raw)


class Settings:
    """Typed access to the persisted settings. `path`: an ini file (tests); None: the user's settings."""

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            self._store = QSettings(ORGANIZATION, APPLICATION)
        else:
            self._store = QSettings(str(path), QSettings.Format.IniFormat)

    @property
    def file_name(self) -> str:
        return self._store.fileName()

    def get(self, key: KeySpec[SettingValue]) -> SettingValue:
        if not self._store.contains(key.name):
            return key.default
        return _coerce(self._store.value(key.name), key.default)

    def set(self, key: KeySpec[SettingValue], value: object) -> None:
        self._store.setValue(key.name, _coerce(value, key.default))

    def reset(self, key: KeySpec[Any]) -> None:
        self._store.remove(key.name)

    def shortcut(self, command_id: str) -> str | None:
        """The user's shortcut for a command ("" = none), or None when they never changed it."""
        name = f"shortcuts/{command_id}"
        return str(self._store.value(name) or "") if self._store.contains(name) else None

    def set_shortcut(self, command_id: str, sequence: str) -> None:
        self._store.setValue(f"shortcuts/{command_id}", sequence)

    def global_shortcut(self, command_id: str) -> str | None:
        """The user's system-wide key for a command ("" = none), or None when they never changed it."""
        name = f"global_shortcuts/{command_id}"
        return str(self._store.value(name) or "") if self._store.contains(name) else None

    def set_global_shortcut(self, command_id: str, sequence: str) -> None:
        self._store.setValue(f"global_shortcuts/{command_id}", sequence)

    def overlay_geometry(self) -> QByteArray | None:
        value = self._store.value(_OVERLAY_GEOMETRY)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_overlay_geometry(self, geometry: QByteArray) -> None:
        self._store.setValue(_OVERLAY_GEOMETRY, geometry)

    def window_geometry(self) -> QByteArray | None:
        value = self._store.value(_WINDOW_GEOMETRY)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_window_geometry(self, geometry: QByteArray) -> None:
        self._store.setValue(_WINDOW_GEOMETRY, geometry)

    def server_consent(self) -> str:
        """The host the user agreed to send pictures to; "" for none."""
        return str(self._store.value(_SERVER_CONSENT) or "")

    def set_server_consent(self, host: str) -> None:
        self._store.setValue(_SERVER_CONSENT, host)

    def alert_settings(self) -> AlertSettings:
        """Every per-sound choice stored (`Key.sound_alerts_on`, `Key.sound_sensitivity`), for the
        detectors. Snoozes are not stored: they belong to one run."""
        enabled = {sound: self.get(Key.sound_alerts_on(sound)) for sound in self._sounds_in(_SOUND_ON)}
        sensitivity = {
            sound: self.get(Key.sound_sensitivity(sound)) for sound in self._sounds_in(_SOUND_SENSITIVITY)
        }
        return AlertSettings.from_dict({"enabled": enabled, "sensitivity": sensitivity})

    def _sounds_in(self, group: str) -> list[str]:
        self._store.beginGroup(group)
        keys = self._store.childKeys()
        self._store.endGroup()
        return [key.replace("\u2215", "/") for key in keys]

    def sync(self) -> None:
        self._store.sync()


def stored_config(settings: Settings) -> Config:
    """The session configuration the stored settings describe (before the command line's overrides)."""
    return Config(
        camera=settings.get(Key.CAMERA),
        audio=settings.get(Key.MICROPHONE),
        engine=settings.get(Key.SPEECH_ENGINE),
        model=settings.get(Key.SPEECH_MODEL),
        language=settings.get(Key.LANGUAGE),
        translate=settings.get(Key.TRANSLATE),
        vocabulary=settings.get(Key.VOCABULARY),
        scene_model=settings.get(Key.SCENE_MODEL),
        captions_at_start=settings.get(Key.CAPTIONS_AT_START),
        narration=NarrationSettings(
            change_threshold=settings.get(Key.NARRATION_CHANGE),
            stable_seconds=settings.get(Key.NARRATION_STABLE),
            min_gap_seconds=settings.get(Key.NARRATION_GAP),
        ),
        server_url=server_in_use(settings),
        server_model=settings.get(Key.SERVER_MODEL),
        server_timeout=settings.get(Key.SERVER_TIMEOUT),
        server_image_size=settings.get(Key.SERVER_IMAGE_SIZE),
        server_allow_insecure=settings.get(Key.SERVER_ALLOW_INSECURE),
        routes={command: Route.parse(settings.get(key)) for command, key in ROUTE_KEYS.items()},
    )


def server_in_use(settings: Settings) -> str:
    """The server address when the server is on and the user agreed to send pictures to its host;
    "" otherwise (then nothing connects anywhere)."""
    from assistant.remote.address import parse_server_url
    from assistant.remote.errors import ServerAddressError

    url = settings.get(Key.SERVER_URL)
    if not settings.get(Key.SERVER_ENABLED) or not url:
        return ""
    try:
        host = parse_server_url(url).display
    except ServerAddressError:
        return ""
    return url if host == settings.server_consent() else ""
