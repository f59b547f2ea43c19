"""The app's behaviour without a screen: configuration, the models, and the commands.

The command line (`assistant describe`, `read`, `narrate`) and the window both run on a `Session`, so they
share one fallback rule (no scene model: quick cues, said once), one model cache, and one wording.

- `Config` is the effective configuration, built once at start: the built-in defaults, then the stored
  settings (the window's), then the command line (`Config.overridden_by`).
- Each model sits in a `Lazy` holder that loads it once, under a lock, on whichever thread first needs
  it; the scene model has its quick-cue fallback beside it (`SceneModel`).
- Each command is a method that takes what it works on (a frame, a question, recorded audio) and returns
  a typed `Result`: the text, how urgently to say it, and what it came from. The methods block (they run
  models), so the window calls them from worker threads and the command line calls them directly.
- A model server (`Config.server_url`, off by default) answers detailed descriptions, questions and
  reading (`SERVER_COMMANDS`); brief descriptions and narration stay on-device, where they are fast. Its
  answers stream sentence by sentence to `on_sentence` and are marked ("From the server: ..."). When it
  fails, the on-device model answers and `Result.notice` says why, once until the server answers again.
  Each of those commands can be pinned (`Config.routes`): to the server, so a brief description goes there
  too, or to this computer, so a question never leaves it. Narration always stays here.
  With no server set, nothing here opens a connection.
"""

from __future__ import annotations

import dataclasses
import enum
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from assistant.audio.source import SAMPLE_RATE, AudioArray
from assistant.errors import AssistantError, ModelNotFoundError
from assistant.speech.engines import (
    DEFAULT_ENGINE,
    DEFAULT_MODEL,
    RecognizerOptions,
    SpeechRecognizer,
    load_recognizer,
    words_text,
)
from assistant.vision.describe import DEFAULT_MODEL as DEFAULT_SCENE_MODEL
from assistant.vision.describe import (
    Detail,
    FallbackDescriber,
    LockedDescriber,
    SceneDescriber,
    SceneObject,
    load_describer,
)
from assistant.vision.finder import DEFAULT_FINDER_MODEL, ContrastiveScorer, load_scorer
from assistant.vision.image import Frame
from assistant.vision.narrator import NarrationSettings
from assistant.vision.ocr import TextLine, TextReader, load_text_reader, spoken_text
from assistant.voice.controller import Priority

if TYPE_CHECKING:
    from assistant.remote.describer import RemoteDescriber, SentenceCallback

T = TypeVar("T")

CAMERA_PICTURE = "the camera picture"
SHORTEST_QUESTION_SECONDS = 0.25
"""Less audio than this while the key was held is a slip of the finger, not a question."""
REMOTE_MARK = "From the server: "
"""Every answer from a model server starts with this, in text, history, transcript and speech."""
SERVER_COMMANDS = frozenset({"describe-detailed", "ask", "read"})
"""What goes to the model server when one is set and the command is not pinned; the rest (brief
descriptions, narration) stays here."""
ROUTED_COMMANDS = ("describe-brief", "describe-detailed", "ask", "read")
"""The commands that can be pinned to the server or to this computer (`Config.routes`)."""


class Route(enum.Enum):
    """Where one command is answered."""

    AUTO = "auto"
    """The default: the server for `SERVER_COMMANDS` when one is set, this computer for the rest."""
    SERVER = "server"
    """The model server whenever one is set (this computer when none is)."""
    DEVICE = "on-device"
    """Always this computer: nothing of the command is sent anywhere."""

    @classmethod
    def parse(cls, value: str) -> Route:
        """The route a stored value names; `AUTO` for anything else (a hand-edited settings file)."""
        try:
            return cls(value.strip().lower())
        except ValueError:
            return cls.AUTO


# -- configuration ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overrides:
    """What the command line chose; None leaves the stored setting (or the default) in force."""

    camera: str | None = None
    audio: str | None = None
    engine: str | None = None
    model: str | None = None
    language: str | None = None
    translate: bool | None = None
    vocabulary: str | None = None
    threads: int | None = None
    scene_model: str | None = None
    transcript: str | None = None
    captions_at_start: bool | None = None
    server_url: str | None = None
    server_model: str | None = None
    server_timeout: float | None = None
    server_image_size: int | None = None
    server_allow_insecure: bool | None = None
    finder_model: str | None = None


@dataclass(frozen=True)
class Config:
    """The effective configuration of one session."""

    camera: str = "0"
    """A camera number, a stream address or a video file; "" for none."""
    audio: str = "mic"
    """The caption source: mic, system, a device name or number, or an audio file."""
    engine: str = DEFAULT_ENGINE
    model: str = DEFAULT_MODEL
    """The speech model."""
    language: str = "en"
    """The spoken language's code, or "auto" to detect it."""
    translate: bool = False
    vocabulary: str = ""
    threads: int = 2
    scene_model: str = DEFAULT_SCENE_MODEL
    transcript: str = ""
    """Save final captions here from the start; "" for not until the user asks."""
    captions_at_start: bool = True
    narration: NarrationSettings = field(default_factory=NarrationSettings)
    server_url: str = ""
    """An OpenAI-compatible model server for detailed descriptions, questions and reading; "" for none
    (everything on-device, no connection anywhere)."""
    server_model: str = ""
    """The server's model; "" for the first one it lists."""
    server_timeout: float = 8.0
    """Seconds to wait for the server's first words (and the longest pause after them)."""
    server_image_size: int = 768
    """The long side, in pixels, of pictures sent to the server."""
    server_allow_insecure: bool = False
    """Send pictures over plain http:// even to a public address."""
    finder_model: str = DEFAULT_FINDER_MODEL
    """The image–text model that finds things by name and names the kind of place."""
    routes: Mapping[str, Route] = field(default_factory=dict, hash=False)
    """Commands of `ROUTED_COMMANDS` pinned to the server or to this computer; the rest are `Route.AUTO`."""

    def overridden_by(self, overrides: Overrides) -> Config:
        """This configuration with every choice the command line made put over it."""
        chosen = {name: value for name, value in dataclasses.asdict(overrides).items() if value is not None}
        return dataclasses.replace(self, **chosen)

    @property
    def recognition_language(self) -> str | None:
        return None if self.language in ("", "auto") else self.language

    def to_server(self, command: str) -> bool:
        """Whether `command` ("describe-brief", "describe-detailed", "ask", "read", "narrate") goes to the
        model server: one is set, and the command is pinned to it or left to `SERVER_COMMANDS`."""
        if not self.server_url or command not in ROUTED_COMMANDS:
            return False
        route = self.routes.get(command, Route.AUTO)
        return command in SERVER_COMMANDS if route is Route.AUTO else route is Route.SERVER

    def recognizer_options(self) -> RecognizerOptions:
        return RecognizerOptions(
            language=self.recognition_language,
            translate=self.translate,
            vocabulary=self.vocabulary,
            threads=self.threads,
        )


# -- models -------------------------------------------------------------------------------------------


class Lazy(Generic[T]):
    """One model, loaded once on first use, whichever thread asks first; the others wait for it."""

    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._value: T | None = None

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._load()
            return self._value

    def loaded(self) -> T | None:
        """The model if it has been loaded; never waits for a load in progress."""
        return self._value


class SceneModel:
    """The scene describer: the configured model once it is loaded, the quick cues until then or when it
    is not installed. Both are `LockedDescriber`s, so narration and commands can share them."""

    def __init__(self, load: Callable[[], SceneDescriber]) -> None:
        self._model = Lazy(lambda: LockedDescriber(load()))
        self._fallback = Lazy(lambda: LockedDescriber(FallbackDescriber()))

    def load(self) -> LockedDescriber:
        """Load the model now (slow). Raises `ModelNotFoundError` naming the download command."""
        return self._model.get()

    def current(self) -> LockedDescriber:
        """The model when loaded, the quick cues otherwise: never waits."""
        return self._model.loaded() or self._fallback.get()

    def load_or_fallback(self) -> tuple[LockedDescriber, str]:
        """The model, loading it if need be; the quick cues and why when it is not installed."""
        try:
            return self.load(), ""
        except ModelNotFoundError as error:
            return self._fallback.get(), f"no scene model installed, using quick cues instead. {error}"


# -- results ------------------------------------------------------------------------------------------


class ResultKind(enum.Enum):
    DESCRIPTION = "description"
    ANSWER = "answer"
    TEXT = "text"
    MESSAGE = "message"
    """Not a result of looking: what to do instead (no camera picture, no question heard)."""


@dataclass(frozen=True)
class Result:
    """What a command found, as it is shown and said."""

    text: str
    kind: ResultKind
    origin: str
    """What it came from: "the camera picture", "the screen", a file's path."""
    priority: Priority = Priority.NEXT
    model: str = ""
    objects: tuple[SceneObject, ...] = ()
    fallback: bool = False
    """True when no scene model was there to answer and the quick cues did."""
    remote: bool = False
    """True when the model server answered; the text then starts with `REMOTE_MARK`."""
    notice: str = ""
    """Why the model server did not answer and the on-device model did (said once, before the text)."""
    spoken: bool = False
    """The text was already said sentence by sentence as it streamed in (`on_sentence`)."""
    said: str = ""
    """What to say, when it differs from what is shown: read text with units, money and times in words
    and unsure lines said as "unclear: …" (the shown `text` stays exactly as printed)."""
    scene: str = ""
    """The kind of place ("kitchen"), by the finder model when it is installed; "" otherwise."""
    scene_probability: float = 0.0


def no_picture(origin: str = CAMERA_PICTURE) -> Result:
    if origin == CAMERA_PICTURE:
        text = (
            "No camera picture yet. Connect a camera, or start with --camera and a video file; "
            "describing the screen, the clipboard or an image file works without one."
        )
    else:
        text = f"There is no picture on {origin}."
    return Result(text, ResultKind.MESSAGE, origin)


NO_TEXT = "No text found."
NARRATION_SCENE_MIN = 0.4
"""Narration opens with the kind of place ("In a kitchen: ...") only when the finder is this sure."""
NO_QUESTION = "I did not hear a question. Hold the key while you speak."


# -- the session --------------------------------------------------------------------------------------


class Session:
    """The assistant's state and commands for one run of the window or of a command.

    Loaders are injectable for tests; by default they load the configured models through the model
    store. Nothing is loaded until a command (or `SceneModel.load`) needs it."""

    def __init__(
        self,
        config: Config | None = None,
        *,
        load_scene: Callable[[], SceneDescriber] | None = None,
        load_reader: Callable[[], TextReader] | None = None,
        load_question_recognizer: Callable[[], SpeechRecognizer] | None = None,
        load_finder: Callable[[], ContrastiveScorer] | None = None,
        server_key: Callable[[str], str | None] | None = None,
    ) -> None:
        self.config = config or Config()
        self._server_key = server_key
        self._server_lock = threading.Lock()
        self._server: RemoteDescriber | None = None
        self._last_notice = ""
        self.scene = SceneModel(load_scene or self._load_scene)
        self.text_reader: Lazy[TextReader] = Lazy(load_reader or load_text_reader)
        self.question_recognizer: Lazy[SpeechRecognizer] = Lazy(
            load_question_recognizer or self._load_question_recognizer
        )
        self.finder: Lazy[ContrastiveScorer] = Lazy(
            load_finder or (lambda: load_scorer(self.config.finder_model, threads=self.config.threads))
        )
        self._finder_missing = False

    def reload_scene(self) -> SceneModel:
        """Forget the scene model (a new one was downloaded or chosen); the next look loads it again."""
        self.scene = SceneModel(self._load_scene)
        return self.scene

    def _load_scene(self) -> SceneDescriber:
        return load_describer(self.config.scene_model, threads=self.config.threads)

    def _load_question_recognizer(self) -> SpeechRecognizer:
        # Questions are short: the captions' model and language, without translation or vocabulary.
        options = RecognizerOptions(language=self.config.recognition_language, threads=self.config.threads)
        return load_recognizer(self.config.engine, self.config.model, options)

    # -- the model server -----------------------------------------------------------------------------

    def server(self) -> RemoteDescriber | None:
        """The model server's describer for the current configuration, or None when none is set. Built
        without touching the network; kept while the configuration is the same (its conversation and
        connections with it)."""
        config = self.config
        if not config.server_url:
            return None
        from assistant.remote.address import parse_server_url
        from assistant.remote.describer import RemoteDescriber, ServerSettings

        settings = ServerSettings(
            url=config.server_url,
            model=config.server_model,
            first_token_timeout=config.server_timeout,
            image_size=config.server_image_size,
            allow_insecure=config.server_allow_insecure,
            same_scene_below=config.narration.change_threshold,
        )
        with self._server_lock:
            if self._server is None or self._server.settings != settings:
                key_source = self._server_key or _stored_server_key
                host = parse_server_url(settings.url).display
                if self._server is not None:
                    self._server.close()  # the settings changed: a new client, a new conversation
                self._server = RemoteDescriber(settings, api_key=lambda: key_source(host))
            return self._server

    def prepare_server(self) -> str:
        """Get the model server ready (address check, key, client, model name) so the first command does
        not wait for it; "" when no server is set. Raises `ServerError` when it cannot be reached."""
        server = self.server()
        if server is None:
            return ""
        model = server.prepare()
        return f"model server {server.host} ready ({model})"

    def server_host_for(self, command: str) -> str | None:
        """The host a command's picture goes to ("gpu-box:8000"), or None when it stays here. `command` is
        one of "describe-brief", "describe-detailed", "ask", "read" (for the status line)."""
        if not self.config.to_server(command):
            return None
        try:
            server = self.server()
        except AssistantError:
            return None
        return server.host if server is not None else None

    def _from_server(
        self,
        command: str,
        kind: ResultKind,
        origin: str,
        on_sentence: SentenceCallback | None,
        ask_server: Callable[[RemoteDescriber, SentenceCallback | None], str],
    ) -> tuple[Result | None, str]:
        """(the server's result, "") when it answered; (None, why not) when it did not (the why is ""
        when it was said already, or when the command stays here)."""
        if not self.config.to_server(command):
            return None, ""
        from assistant.remote.errors import ServerError

        try:
            server = self.server()
            if server is None:
                return None, ""
            said = _marked(on_sentence)
            text = ask_server(server, said)
        except ServerError as error:
            return None, self._notice(f"{error} Answering on this computer instead.")
        self._last_notice = ""
        result = Result(
            REMOTE_MARK + text,
            kind,
            origin,
            model=server.model_name,
            remote=True,
            spoken=on_sentence is not None,
        )
        return result, ""

    def _notice(self, notice: str) -> str:
        """The notice the first time; "" while the server keeps failing the same way."""
        if notice == self._last_notice:
            return ""
        self._last_notice = notice
        return notice

    # -- commands (blocking: run them off the GUI thread) ---------------------------------------------

    def describe(
        self,
        frame: Frame,
        detail: Detail = "brief",
        origin: str = CAMERA_PICTURE,
        *,
        wait: bool = False,
        on_sentence: SentenceCallback | None = None,
    ) -> Result:
        """Describe `frame`. `wait`: load the scene model first (the command line); otherwise use the
        quick cues while it is still loading (the window, which must answer at once). A detailed
        description goes to the model server when one is set (a brief one when it is pinned there);
        `on_sentence` then gets each sentence as it arrives."""
        return self._describe(frame, detail, origin, f"describe-{detail}", wait=wait, on_sentence=on_sentence)

    def _describe(
        self,
        frame: Frame,
        detail: Detail,
        origin: str,
        command: str,
        *,
        wait: bool = False,
        on_sentence: SentenceCallback | None = None,
    ) -> Result:
        remote, notice = self._from_server(
            command,
            ResultKind.DESCRIPTION,
            origin,
            on_sentence,
            lambda server, said: server.describe(frame, detail, on_sentence=said).text,
        )
        if remote is not None:
            return remote
        describer = self.scene.load_or_fallback()[0] if wait else self.scene.current()
        description = describer.describe(frame, detail)
        scene, probability = self.scene_category(frame, load=wait)
        return Result(
            description.text,
            ResultKind.DESCRIPTION,
            origin,
            model=describer.model_name,
            objects=tuple(description.objects),
            fallback=describer.is_fallback,
            notice=notice,
            scene=scene,
            scene_probability=probability,
        )

    def scene_category(self, frame: Frame, *, load: bool = True) -> tuple[str, float]:
        """The kind of place and how sure the finder model is; ("", 0.0) when it is not installed.
        `load`: load it if need be (once; a missing model is remembered, not looked for again)."""
        scorer = self.finder.loaded()
        if scorer is None:
            if not load or self._finder_missing:
                return "", 0.0
            try:
                scorer = self.finder.get()
            except AssistantError:
                self._finder_missing = True
                return "", 0.0
        return scorer.scene(frame)

    def narrate(self, frame: Frame) -> Result:
        """The brief description narration speaks when the scene changes: at normal priority, so it
        never cuts off a result the user asked for."""
        self.scene_category(frame)  # loads the finder model once, when it is installed
        result = self._describe(frame, "brief", CAMERA_PICTURE, "narrate")  # never sent, whatever is pinned
        text = result.text
        if result.scene and result.scene_probability >= NARRATION_SCENE_MIN and not result.remote:
            text = f"In a {result.scene}: {text}"
        return dataclasses.replace(result, text=text, priority=Priority.NORMAL)

    def ask(
        self,
        frame: Frame,
        question: str,
        origin: str = CAMERA_PICTURE,
        *,
        wait: bool = False,
        on_sentence: SentenceCallback | None = None,
    ) -> Result:
        """Answer a question about `frame`; the model server answers when one is set, and a follow-up
        about the same scene continues its conversation."""
        remote, notice = self._from_server(
            "ask",
            ResultKind.ANSWER,
            origin,
            on_sentence,
            lambda server, said: server.ask(frame, question, on_sentence=said),
        )
        if remote is not None:
            return remote
        describer = self.scene.load_or_fallback()[0] if wait else self.scene.current()
        if notice:
            try:
                answer = describer.ask(frame, question)
            except AssistantError as error:  # the on-device model cannot answer questions either
                return Result(str(error), ResultKind.MESSAGE, origin, notice=notice)
        else:
            answer = describer.ask(frame, question)
        return Result(
            answer,
            ResultKind.ANSWER,
            origin,
            model=describer.model_name,
            fallback=describer.is_fallback,
            notice=notice,
        )

    def read(
        self,
        frame: Frame,
        origin: str = CAMERA_PICTURE,
        *,
        on_sentence: SentenceCallback | None = None,
        screen: bool = False,
    ) -> Result:
        """The printed text in `frame`, in reading order: from the model server (which also says what the
        document is) when one is set, else from the on-device OCR. `screen`: `frame` is a screen capture;
        the on-device OCR then hands its first line to `on_sentence` as soon as it is read, and the rest
        after it (`TextReader.read_screen`)."""
        remote, notice = self._from_server(
            "read",
            ResultKind.TEXT,
            origin,
            on_sentence,
            lambda server, said: server.read(frame, on_sentence=said),
        )
        if remote is not None:
            return remote
        reader = self.text_reader.get()
        streamed: list[str] = []
        if screen and on_sentence is not None:

            def said_now(lines: list[TextLine]) -> None:
                streamed.append(spoken_text(lines))
                on_sentence(streamed[-1])

            result = reader.read_screen(frame, said_now)
        else:
            result = reader.read_screen(frame) if screen else reader.read(frame)
        text = result.text.strip() if result.has_text else ""
        said = result.spoken.strip() if result.has_text else ""
        spoken = bool(streamed) and bool(text)
        return Result(text or NO_TEXT, ResultKind.TEXT, origin, notice=notice, said=said, spoken=spoken)

    def hear_question(self, audio: AudioArray) -> str:
        """The words of a spoken question; "" when there was too little audio to hold one."""
        if len(audio) < SHORTEST_QUESTION_SECONDS * SAMPLE_RATE:
            return ""
        transcription = self.question_recognizer.get().transcribe_window(audio)
        return words_text(transcription.words) or transcription.text.strip()


def _stored_server_key(host: str) -> str | None:
    """The API key for `host`: ASSISTANT_SERVER_KEY, else the OS keyring (read on the first request)."""
    from assistant.remote.keys import server_key

    return server_key(host)


def _marked(on_sentence: SentenceCallback | None) -> SentenceCallback | None:
    """`on_sentence` with the server's mark said before the first sentence."""
    if on_sentence is None:
        return None
    first = [True]

    def said(sentence: str) -> None:
        on_sentence(REMOTE_MARK + sentence if first[0] else sentence)
        first[0] = False

    return said


def result_json(result: Result) -> dict[str, Any]:
    """A result as the command line's `--json` prints it."""
    data: dict[str, Any] = {"text": result.text, "kind": result.kind.value, "fallback": result.fallback}
    data["remote"] = result.remote
    if result.notice:
        data["notice"] = result.notice
    if result.kind is ResultKind.DESCRIPTION:
        data["objects"] = [scene_object.as_dict() for scene_object in result.objects]
        if result.scene:
            data["scene"] = result.scene
            data["scene_probability"] = round(result.scene_probability, 3)
    return data
