"""Large vision-language models on a self-hosted server (vLLM, Ollama, llama.cpp, `transformers serve`).

Off unless the user sets a server. `RemoteDescriber` is a `SceneDescriber` over the OpenAI-compatible
chat-completions API; `assistant.session.Session` sends detailed descriptions, questions and reading to it
and answers on-device when it fails. `assistant.remote.keys` keeps the API key in the OS keyring;
`assistant.remote.transcribe` sends a recording to the server's `/v1/audio/transcriptions`.
"""

from __future__ import annotations

from assistant.remote.address import ServerAddress, check_transport, parse_server_url
from assistant.remote.describer import (
    DEFAULT_IMAGE_SIZE,
    DEFAULT_TIMEOUT_S,
    SYSTEM_PROMPT,
    RemoteDescriber,
    ServerSettings,
    encode_image,
)
from assistant.remote.errors import (
    MalformedStreamError,
    ServerAddressError,
    ServerError,
    ServerRefusedError,
    ServerTimeoutError,
    ServerUnreachableError,
)
from assistant.remote.sentences import SentenceSplitter, speakable

__all__ = [
    "DEFAULT_IMAGE_SIZE",
    "DEFAULT_TIMEOUT_S",
    "SYSTEM_PROMPT",
    "MalformedStreamError",
    "RemoteDescriber",
    "SentenceSplitter",
    "ServerAddress",
    "ServerAddressError",
    "ServerError",
    "ServerRefusedError",
    "ServerSettings",
    "ServerTimeoutError",
    "ServerUnreachableError",
    "check_transport",
    "encode_image",
    "parse_server_url",
    "speakable",
]
