"""Transcribing a recording on the model server (`POST /v1/audio/transcriptions`), where it offers one.

vLLM serves Whisper models this way, and so does `transformers serve`; Ollama and llama.cpp's server do
not (they answer 404, and the command line then transcribes on this computer). Live captions always stay
on-device: this is for whole files only (`assistant transcribe FILE --server URL`).

The recording is sent in pieces of at most `CHUNK_SECONDS` as 16 kHz mono WAV, each cut at the quietest
moment of its last seconds: servers differ in how much they take at once (`transformers serve` reads
only the first 30 s), and a cut in a pause does not split a word. Each piece comes back as one segment
with its place in the recording, so `.srt` and `.vtt` transcripts keep their timing. A piece that is
all but silent (under `SILENT_RMS`) is not sent: there is nothing to hear in it, and Whisper given
silence invents "Thank you.".

A recording of hours is given a five-minute stretch at a time (`transcribe(audio, offset=...)`, the
stretches `assistant transcribe` decodes block by block), so it is never in memory whole; the client
and the chosen model are kept from one stretch to the next until `close()`.
"""

from __future__ import annotations

import io
import logging
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.remote.address import ServerAddress, check_transport, parse_server_url
from assistant.remote.describer import make_client, server_failure
from assistant.remote.errors import ServerError, ServerRefusedError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
CHUNK_SECONDS = 25.0
"""The longest piece sent at once (Whisper reads 30 s windows)."""
CUT_SEARCH_SECONDS = 5.0
"""A piece is cut at the quietest 0.1 s within its last this many seconds."""
SILENT_RMS = 1e-3
"""A piece quieter than this (-60 dBFS) holds no speech and is not sent."""
DEFAULT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class RemoteSegment:
    start: float
    end: float
    text: str


def chunk_bounds(audio: npt.NDArray[np.float32], sample_rate: int = SAMPLE_RATE) -> list[tuple[int, int]]:
    """(start, end) sample indices of the pieces to send, each cut in the quietest part of its end."""
    longest = int(CHUNK_SECONDS * sample_rate)
    search = int(CUT_SEARCH_SECONDS * sample_rate)
    window = sample_rate // 10
    bounds: list[tuple[int, int]] = []
    start = 0
    while len(audio) - start > longest:
        region = audio[start + longest - search : start + longest]
        frames = len(region) // window
        energy = np.square(region[: frames * window].reshape(frames, window)).mean(axis=1)
        cut = start + longest - search + int(np.argmin(energy)) * window + window // 2
        bounds.append((start, cut))
        start = cut
    if len(audio) > start:
        bounds.append((start, len(audio)))
    return bounds


def wav_bytes(samples: npt.NDArray[np.float32], sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono WAV of float samples in [-1, 1]: the format every server reads."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes((np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes())
    return buffer.getvalue()


class RemoteTranscriber:
    """Sends a recording to the server's transcription endpoint. The constructor opens nothing; the first
    `transcribe` opens a connection, which `close()` (or `contextlib.closing`) closes."""

    def __init__(
        self,
        url: str,
        model: str = "",
        *,
        api_key: str | Callable[[], str | None] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        allow_insecure: bool = False,
    ) -> None:
        self.address: ServerAddress = parse_server_url(url)
        self.model = model
        self._api_key = api_key
        self._timeout = timeout
        self._allow_insecure = allow_insecure
        self._key = ""
        self._client: Any = None

    @property
    def host(self) -> str:
        return self.address.display

    def transcribe(self, audio: npt.NDArray[np.float32], offset: float = 0.0) -> Iterator[RemoteSegment]:
        """The text of `audio` (which starts `offset` seconds into the recording), piece by piece as the
        server returns it, timed in the recording. Raises `ServerError` (a 404 when the server has no
        transcription endpoint) before the first piece or part-way through."""
        client = self._open()
        model = self.model = self.model or self._pick_model(client)
        for start, end in chunk_bounds(audio):
            piece = audio[start:end]
            if float(np.sqrt(np.mean(np.square(piece)))) < SILENT_RMS:
                continue
            text = self._one_piece(client, model, piece)
            if text:
                yield RemoteSegment(offset + start / SAMPLE_RATE, offset + end / SAMPLE_RATE, text)

    def close(self) -> None:
        """Close the connection to the server (a later `transcribe` opens a new one)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _open(self) -> Any:
        if self._client is None:
            check_transport(self.address, self._allow_insecure)
            key = self._api_key() if callable(self._api_key) else self._api_key
            self._key = key or ""
            self._client = make_client(self.address, self._key, self._timeout)
        return self._client

    def _pick_model(self, client: Any) -> str:
        """A listed model with "whisper" in its name, else the first one."""
        try:
            models = [str(model.id) for model in client.models.list().data]
        except Exception as error:  # noqa: BLE001 - every client failure becomes one plain ServerError
            raise self._failure(error, "") from None
        if not models:
            raise ServerRefusedError(f"The server {self.host} offers no models.", 404)
        speech = [name for name in models if "whisper" in name.lower()]
        chosen = (speech or models)[0]
        log.info("remote: transcribing with %s on %s", chosen, self.host)
        return chosen

    def _one_piece(self, client: Any, model: str, samples: npt.NDArray[np.float32]) -> str:
        try:
            result = client.audio.transcriptions.create(
                model=model, file=("speech.wav", wav_bytes(samples), "audio/wav")
            )
            text = result if isinstance(result, str) else result.text
        except Exception as error:  # noqa: BLE001 - every client failure becomes one plain ServerError
            raise self._failure(error, model) from None
        return " ".join(str(text).split())

    def _failure(self, error: BaseException, model: str) -> ServerError:
        failure = server_failure(error, host=self.host, model=model, timeout=self._timeout, key=self._key)
        if isinstance(failure, ServerRefusedError) and failure.status in (404, 405):
            return ServerRefusedError(
                f"The server {self.host} does not transcribe recordings (no /v1/audio/transcriptions, or "
                f"no speech model {model}).",
                failure.status,
            )
        return failure
