"""`RemoteDescriber`: a large vision-language model on a self-hosted server, behind `SceneDescriber`.

Any engine that speaks OpenAI's chat-completions API works (vLLM, Ollama, llama.cpp's `llama-server`,
LM Studio, `transformers serve`); we talk to it through the maintained `openai` client.

- The picture goes as an `image_url` content part: a base64 JPEG data URL, its long side scaled down to
  `ServerSettings.image_size` (768 px by default: enough to read a label, small enough to send at once).
- The system prompt is written for blind users (`SYSTEM_PROMPT`).
- The answer is streamed (server-sent events). `on_sentence` receives each sentence the moment it is
  complete, so the first one can be spoken while the server is still writing the rest.
- Follow-up questions keep the conversation (the first picture and the earlier answers) while the scene
  stays the same (`scene_distance` under `ServerSettings.same_scene_below`, the narrator's measure);
  a new scene starts a new conversation.
- Every failure is a `ServerError` with one plain sentence: no first token within
  `ServerSettings.first_token_timeout` (or a stall as long after it), no connection, an HTTP error, an
  unreadable or broken-off stream. The session then answers on-device.

The constructor opens nothing. The first request resolves the host (for the plain-HTTP check), reads the
API key (keyring lookups can be slow), creates the client and, when no model is named, asks `/v1/models`.
The API key goes into the client and nowhere else: never into a message, a log line or `repr`.
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.remote.address import ServerAddress, check_transport, parse_server_url
from assistant.remote.errors import (
    MalformedStreamError,
    ServerError,
    ServerRefusedError,
    ServerTimeoutError,
    ServerUnreachableError,
)
from assistant.remote.sentences import SentenceSplitter, speakable
from assistant.vision.describe import Description, Detail, SceneObject, UnsupportedRequestError
from assistant.vision.image import Frame
from assistant.vision.narrator import SceneSignature, scene_distance, scene_signature

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 8.0
DEFAULT_IMAGE_SIZE = 768
JPEG_QUALITY = 85
MAX_FOLLOW_UPS = 6
"""Follow-up turns kept in a conversation; older ones are dropped (the first picture and answer stay)."""

SYSTEM_PROMPT = (
    "You describe pictures for a blind person, who hears your words read aloud.\n"
    "- Lead with what matters most: the main subject, and anything that affects safety (a step, traffic, "
    "a hot stove, an obstacle).\n"
    "- Say where things are: left, right, in the middle, near, far, above, below.\n"
    "- Read important text word for word (signs, labels, screens, letters, buttons), and say when it is "
    "only partly readable.\n"
    '- Say when you are unsure ("it may be a cat"). Never name people you do not know; describe what '
    "they wear and do.\n"
    '- Never begin with "The image shows" or "This picture": just say what is there.\n'
    "- Plain short sentences: no lists, no headings, no markdown.\n"
    "- Answer a question directly in your first sentence, then add what helps."
)
PROMPTS: dict[str, str] = {
    "brief": "Describe this in one or two short sentences.",
    "detailed": (
        "Describe this in detail: the most important things first, then where everything is, any text, "
        "and the rest. At most eight short sentences."
    ),
    "read": (
        "Read all the text in this picture, word for word, in reading order. Then say in one sentence what "
        "it is (a letter, a label, a screen...) and what it asks of the reader, if anything. If there is "
        "no text, say so."
    ),
}
MAX_TOKENS: dict[str, int] = {"brief": 80, "detailed": 400, "read": 800, "ask": 300}

SentenceCallback = Callable[[str], None]
KeySource = Callable[[], "str | None"]


@dataclass(frozen=True)
class ServerSettings:
    """Where the server is and how to use it. No API key here: see `RemoteDescriber(api_key=...)`."""

    url: str
    model: str = ""
    """The model to ask for; "" for the first one the server lists (servers usually serve one)."""
    first_token_timeout: float = DEFAULT_TIMEOUT_S
    """Seconds to wait for the first words of an answer, and the longest pause after them."""
    image_size: int = DEFAULT_IMAGE_SIZE
    """The picture's long side in pixels as sent (smaller pictures are sent as they are)."""
    allow_insecure: bool = False
    """Allow plain http:// to a public address (see `assistant.remote.address`)."""
    same_scene_below: float = 0.5
    """A frame closer than this (scene distance) to the conversation's picture continues it."""
    temperature: float = 0.2


@dataclass
class _Conversation:
    signature: SceneSignature
    messages: list[dict[str, Any]]


@dataclass(frozen=True)
class StreamTiming:
    """When the parts of the last answer arrived, in seconds after the request started (benchmarks)."""

    first_token: float
    first_sentence: float
    done: float


def downscale(frame: Frame, long_side: int) -> Frame:
    """The frame with its long side at most `long_side` (area averaging); small frames as they are."""
    import cv2

    height, width = frame.shape[:2]
    scale = long_side / max(width, height)
    if scale >= 1.0:
        return frame
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def encode_image(frame: Frame, long_side: int = DEFAULT_IMAGE_SIZE, quality: int = JPEG_QUALITY) -> str:
    """The frame as a `data:image/jpeg;base64,...` URL, its long side scaled down to `long_side`.

    OpenCV (area averaging, then libjpeg-turbo) takes about 3 ms for a 1280x720 frame on one core,
    a fifth of what Pillow's resize and save take."""
    import cv2

    picture = downscale(frame, long_side)
    ok, jpeg = cv2.imencode(
        ".jpg", cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise UnsupportedRequestError("The picture could not be encoded as JPEG.")
    return "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode("ascii")


class RemoteDescriber:
    """A `SceneDescriber` that asks a model server. Calls are serialised (one conversation at a time)."""

    def __init__(
        self,
        settings: ServerSettings,
        *,
        api_key: str | KeySource | None = None,
        resolve: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.settings = settings
        self.address: ServerAddress = parse_server_url(settings.url)
        self._api_key = api_key
        self._resolve = resolve
        self._lock = threading.Lock()
        self._client: Any = None
        self._closer: weakref.finalize[Any, Any] | None = None
        self._key = ""
        self._model = settings.model
        self._checked = False
        self._conversation: _Conversation | None = None
        self.last_timing: StreamTiming | None = None

    def __repr__(self) -> str:
        return f"RemoteDescriber({self.address.display!r}, model={self._model!r})"

    @property
    def host(self) -> str:
        return self.address.display

    @property
    def model_name(self) -> str:
        return f"{self._model or 'the server model'} on {self.address.display}"

    # -- the SceneDescriber interface -----------------------------------------------------------------

    def describe(
        self, frame: Frame, detail: Detail = "brief", on_sentence: SentenceCallback | None = None
    ) -> Description:
        text = self._converse(frame, PROMPTS[detail], MAX_TOKENS[detail], on_sentence)
        return Description(text, [], self.model_name)

    def ask(self, frame: Frame, question: str, on_sentence: SentenceCallback | None = None) -> str:
        question = question.strip()
        if not question:
            raise UnsupportedRequestError("The question is empty: say or type what you want to know.")
        return self._converse(frame, question, MAX_TOKENS["ask"], on_sentence)

    def read(self, frame: Frame, on_sentence: SentenceCallback | None = None) -> str:
        """Read the text in the picture and say what it is ("read and explain this document")."""
        return self._converse(frame, PROMPTS["read"], MAX_TOKENS["read"], on_sentence)

    def objects(self, frame: Frame) -> list[SceneObject]:
        raise UnsupportedRequestError(
            "The model server does not locate objects; the on-device model does (florence-2-base)."
        )

    def close(self) -> None:
        """Close the connections kept open to the server (also done when the describer is collected)."""
        if self._closer is not None:
            self._closer()

    def forget(self) -> None:
        """End the conversation: the next question starts afresh with a new picture."""
        with self._lock:
            self._conversation = None

    # -- server calls that are not about a picture ----------------------------------------------------

    def prepare(self) -> str:
        """Do now what the first request would: check the address, read the key, build the client, and
        ask for the model list when no model is named. Returns the model's name. An app calls this in
        the background when the server is turned on, so the first question does not wait for a keyring."""
        with self._lock:
            self._prepare()
            self._ensure_model()
            return self._model

    def list_models(self) -> list[str]:
        """The model names the server offers (`GET /v1/models`)."""
        with self._lock:
            return self._list_models()

    def test_connection(self) -> str:
        """One sentence saying what was found at the address: reachable, its models, ours among them."""
        models = self.list_models()
        if not models:
            return f"Connected to {self.host}, but it offers no models."
        listed = ", ".join(models[:5]) + (f" and {len(models) - 5} more" if len(models) > 5 else "")
        found = f"Connected to {self.host}. It offers {listed}."
        if self.settings.model and self.settings.model not in models:
            return f"{found} The model {self.settings.model} is not among them."
        return found

    # -- the conversation -----------------------------------------------------------------------------

    def _converse(
        self, frame: Frame, prompt: str, max_tokens: int, on_sentence: SentenceCallback | None
    ) -> str:
        with self._lock:
            self._prepare()  # once: the address check, the key (a keyring lookup can take a second)
            self._ensure_model()  # once, when no model is named: its own request, its own timeout
            started = time.monotonic()  # the first words are due `first_token_timeout` after this
            # One downscale serves both the scene fingerprint and the picture sent (a third of the time).
            picture = downscale(frame, self.settings.image_size)
            signature = scene_signature(picture)
            conversation = self._conversation
            if conversation is None or (
                scene_distance(signature, conversation.signature) >= self.settings.same_scene_below
            ):
                image = encode_image(picture, self.settings.image_size)
                first_turn = [
                    {"type": "image_url", "image_url": {"url": image}},
                    {"type": "text", "text": prompt},
                ]
                conversation = _Conversation(
                    signature,
                    [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": first_turn}],
                )
            else:
                conversation.messages.append({"role": "user", "content": prompt})
            try:
                answer = self._stream(conversation.messages, max_tokens, on_sentence, started)
            except BaseException:
                if conversation is self._conversation:
                    conversation.messages.pop()  # the question that got no answer
                raise
            conversation.messages.append({"role": "assistant", "content": answer})
            # Keep the system prompt, the picture and its first answer, and the latest follow-ups.
            del conversation.messages[3 : max(3, len(conversation.messages) - 2 * MAX_FOLLOW_UPS)]
            self._conversation = conversation
            return answer

    def _prepare(self) -> None:
        """Check the address (plain HTTP only to this machine or the local network), then build the client."""
        if not self._checked:
            if self._resolve is None:
                check_transport(self.address, self.settings.allow_insecure)
            else:
                check_transport(self.address, self.settings.allow_insecure, self._resolve)
            self._checked = True
        if self._client is None:
            key = self._api_key() if callable(self._api_key) else self._api_key
            self._key = key or ""
            # The stream's reader also gives up after a silence a little longer than ours, so a thread
            # left behind by a timeout ends soon after.
            self._client = make_client(self.address, self._key, self.settings.first_token_timeout + 2.0)
            # Its kept-alive connections are closed when this describer goes, however it goes.
            self._closer = weakref.finalize(self, self._client.close)

    def _ensure_model(self) -> None:
        """Name the model: the configured one, or the first the server lists."""
        if self._model:
            return
        models = self._list_models()
        if not models:
            raise ServerRefusedError(f"The server {self.host} offers no models.", 404)
        self._model = models[0]
        log.info("remote: %s serves %s", self.host, self._model)

    def _list_models(self) -> list[str]:
        self._prepare()
        try:
            page = self._client.models.list(timeout=self.settings.first_token_timeout)
            return [str(model.id) for model in page.data]
        except Exception as error:  # noqa: BLE001 - every client failure becomes one plain ServerError
            raise self._server_error(error, started=False) from None

    # -- streaming ------------------------------------------------------------------------------------

    def _stream(
        self,
        messages: list[dict[str, Any]],
        max_tokens: int,
        on_sentence: SentenceCallback | None,
        started: float,
    ) -> str:
        """Send the conversation and read the streamed answer, calling `on_sentence` per sentence.

        The stream is read on a helper thread that hands each piece over through a queue, so this thread
        can give up exactly on time (a blocked socket read cannot be interrupted). `started`: when the
        command began; the first words are due `first_token_timeout` after it."""
        pieces: queue.Queue[tuple[str, Any]] = queue.Queue()
        cancelled = threading.Event()
        reader = threading.Thread(
            target=self._read_stream,
            args=(messages, max_tokens, pieces, cancelled),
            name="remote-stream",
            daemon=True,
        )
        reader.start()
        splitter = SentenceSplitter()
        sentences: list[str] = []
        first_token = first_sentence = 0.0
        wait = self.settings.first_token_timeout

        def deliver(parts: list[str]) -> None:
            nonlocal first_sentence
            for part in parts:
                text = speakable(part)
                if not text:
                    continue
                if not sentences:
                    first_sentence = time.monotonic() - started
                sentences.append(text)
                if on_sentence is not None:
                    on_sentence(text)

        deadline = started + wait  # for the first words; after them, `wait` after the latest piece
        try:
            while True:
                try:
                    kind, value = pieces.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    if not first_token:
                        raise ServerTimeoutError(
                            f"The server {self.host} did not start answering within {wait:g} s."
                        ) from None
                    raise ServerTimeoutError(
                        f"The server {self.host} stopped answering for {wait:g} s part-way through."
                    ) from None
                if first_token or kind == "text":
                    deadline = time.monotonic() + wait
                if kind == "text":
                    if not first_token:
                        first_token = time.monotonic() - started
                    deliver(splitter.feed(value))
                elif kind == "alive":
                    continue
                elif kind == "error":
                    raise self._server_error(value, started=bool(first_token))
                else:  # "end": value is the finish reason, or None when the stream just stopped
                    if value is None:
                        raise MalformedStreamError(
                            f"The server {self.host} broke off its answer before it was complete."
                        )
                    deliver(splitter.finish())
                    break
        finally:
            cancelled.set()
        if not sentences:
            raise MalformedStreamError(f"The server {self.host} sent an empty answer.")
        self.last_timing = StreamTiming(first_token, first_sentence, time.monotonic() - started)
        return " ".join(sentences)

    def _read_stream(
        self,
        messages: list[dict[str, Any]],
        max_tokens: int,
        pieces: queue.Queue[tuple[str, Any]],
        cancelled: threading.Event,
    ) -> None:
        """The helper thread: request, then put ("text", str), ("alive", None), ("end", reason) or
        ("error", exception) on `pieces` until the stream ends or `cancelled` is set."""
        stream: Any = None
        try:
            stream = self._client.chat.completions.create(
                model=self._model,
                messages=messages,
                max_tokens=max_tokens,
                temperature=self.settings.temperature,
                stream=True,
            )
            finish: str | None = None
            for kind, value in _deltas(stream):
                if cancelled.is_set():
                    return
                if kind == "finish":
                    finish = value
                else:
                    pieces.put((kind, value))
            pieces.put(("end", finish))
        except Exception as error:  # noqa: BLE001 - handed to the waiting thread, which words it
            pieces.put(("error", error))
        finally:
            if stream is not None:
                try:
                    stream.close()
                except Exception:  # closing a broken connection may fail again; nothing to do
                    log.debug("remote: closing the stream failed", exc_info=True)

    # -- errors ---------------------------------------------------------------------------------------

    def _server_error(self, error: BaseException, *, started: bool) -> ServerError:
        return server_failure(
            error,
            host=self.host,
            model=self._model,
            timeout=self.settings.first_token_timeout,
            key=self._key,
            started=started,
        )


def server_failure(
    error: BaseException, *, host: str, model: str, timeout: float, key: str, started: bool = False
) -> ServerError:
    """One plain sentence for whatever the `openai` client raised. `started`: part of the answer had
    arrived. The key is taken out of anything the server said."""
    import openai

    def scrub(text: str) -> str:
        return text.replace(key, "[key]") if key else text

    error_type = type(error).__name__
    if isinstance(error, ServerError):
        return error
    if isinstance(error, openai.APITimeoutError):
        result: ServerError = ServerTimeoutError(f"The server {host} did not answer within {timeout:g} s.")
    elif isinstance(error, openai.APIConnectionError):
        if started:
            result = MalformedStreamError(f"The server {host} broke off its answer part-way.")
        else:
            result = ServerUnreachableError(f"Cannot reach the server {host} ({_root_cause(error)}).")
    elif isinstance(error, openai.APIStatusError):
        status = int(error.status_code)
        if status in (401, 403):
            message = (
                f"The server {host} refused the API key (HTTP {status}). Check the key in the settings, "
                "or ASSISTANT_SERVER_KEY."
            )
        elif status == 404:
            message = (
                f"The server {host} does not know the model {model} or this address (HTTP 404). "
                "Check the model name and the address."
            )
        else:
            message = f"The server {host} answered with an error (HTTP {status}{_detail(error)})."
        result = ServerRefusedError(scrub(message), status)
    elif isinstance(error, openai.APIError):
        # An error event inside the stream.
        result = MalformedStreamError(
            scrub(f"The server {host} reported an error while answering{_detail(error)}.")
        )
    elif isinstance(error, (json.JSONDecodeError, ValueError, TypeError, AttributeError, KeyError)):
        result = MalformedStreamError(f"The server {host} sent an answer that could not be read.")
    else:
        result = ServerError(f"The server {host} failed ({error_type}).")
    log.info("remote: %s (%s)", result, error_type)
    return result


def make_client(address: ServerAddress, key: str, read_timeout: float) -> Any:
    """An `openai.OpenAI` client for the server at `address`: no retries (we answer on-device instead),
    connecting for at most 5 s, and waiting `read_timeout` for each piece of an answer."""
    import openai

    return openai.OpenAI(
        base_url=address.base_url,
        api_key=key or "no-key",  # servers without keys accept any; the client insists on one
        max_retries=0,
        timeout=openai.Timeout(read_timeout, connect=min(read_timeout, 5.0)),
    )


def _deltas(stream: Any) -> Iterator[tuple[str, Any]]:
    """("text", str) for each piece of the answer, ("alive", None) for a chunk without text (the role, a
    model's reasoning), ("finish", reason) when the server says it is done."""
    for chunk in stream:
        choices = chunk.choices
        if not choices:
            yield "alive", None  # a usage-only chunk
            continue
        choice = choices[0]
        content = choice.delta.content if choice.delta is not None else None
        if not isinstance(content, (str, type(None))):
            raise TypeError("content is not text")
        if content:
            yield "text", content
        else:
            yield "alive", None
        if choice.finish_reason:
            yield "finish", str(choice.finish_reason)


def _root_cause(error: BaseException) -> str:
    """The innermost reason for a connection failure, in a few words ("Connection refused")."""
    cause: BaseException = error
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    text = str(cause) or type(cause).__name__
    if "]" in text:  # "[Errno 111] Connection refused"
        text = text.split("]", 1)[1].strip()
    return text[:120].lower().rstrip(".") or "no connection"


def _detail(error: BaseException) -> str:
    """ ": the server's own short message", when it gave one."""
    message = str(getattr(error, "message", "") or "")
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body.get("detail", body.get("message")))
        if isinstance(inner, dict):
            inner = inner.get("message")
        if isinstance(inner, str):
            message = inner
    message = " ".join(message.split())[:120].rstrip(".")
    return f": {message}" if message else ""
