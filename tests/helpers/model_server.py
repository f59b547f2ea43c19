"""A real `transformers serve` model server on a tiny SmolVLM that says a fixed script, for the remote tests.

Why the model is shaped this way:

- `transformers serve` loads a model's processor with `AutoProcessor`. The SmolVLM format
  (`SmolVLMProcessor`) insists on a video processor, which needs torchvision, which this project does not
  install (its only wheels here pull a different torch). SmolVLM-256M-Instruct itself ships on the hub in
  the Idefics3 format (`Idefics3ForConditionalGeneration`, `Idefics3Processor`, no video), which loads
  with Pillow alone; `build_scripted_smolvlm` saves the tiny SmolVLM of `tests/helpers/tiny_models.py` in
  that format (the same weights, renamed classes).
- A random model writes random bytes, with no sentence ends to stream by. So the decoder is set to say
  `SCRIPT`: its layers add nothing to the residual stream (attention and MLP output projections are zero),
  which leaves a bigram model, and the embeddings and the untied output layer chain the last prompt token
  (":" of "Assistant:") through the script's tokens (added to the vocabulary, one per phrase) to the end
  token, with a margin no sampling temperature can upset. Everything else (the image encoder, the chat
  template, the server's SSE) runs as for a real model.

`TransformersServer` starts `transformers serve MODEL_FOLDER` on a free loopback port, waits until it
answers `/health`, and stops it (SIGTERM, then SIGKILL) at the end.

Fixtures (this module is a pytest plugin, see `tests/conftest.py`): `model_server`, one server for the
whole run, started by the first test that asks for it; `fault_proxy`, a fresh `FaultProxy` in front of it
for each test.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from tests.helpers.fault_proxy import FaultProxy

SCRIPT = (
    "A red mug",
    " is on the left",
    " of the desk.",
    " Behind it",
    " a green sign",
    " reads EXIT.",
    " It may be",
    " an office.",
)
"""What the scripted model says, one token per piece; every piece is different (a bigram chain)."""
SCRIPT_TEXT = "".join(SCRIPT)
SCRIPT_SENTENCES = (
    "A red mug is on the left of the desk.",
    "Behind it a green sign reads EXIT.",
    "It may be an office.",
)

VENV_BIN = Path(sys.executable).parent


def build_scripted_smolvlm(folder: Path, script: tuple[str, ...] = SCRIPT) -> Path:
    """A tiny SmolVLM in the Idefics3 format, whose decoder says `script` (see the module docstring)."""
    import importlib

    import torch
    from tokenizers import AddedToken

    # transformers ships no type hints for these: reach them as Any.
    transformers: Any = importlib.import_module("transformers")

    from tests.helpers.tiny_models import build_smolvlm

    folder.mkdir(parents=True, exist_ok=True)
    build_smolvlm(folder)
    _rewrite_json(
        folder / "config.json", model_type="idefics3", architectures=["Idefics3ForConditionalGeneration"]
    )
    _rewrite_json(folder / "preprocessor_config.json", image_processor_type="Idefics3ImageProcessor")
    _rewrite_json(folder / "processor_config.json", processor_class="Idefics3Processor")

    processor = transformers.AutoProcessor.from_pretrained(folder, local_files_only=True)
    tokenizer = processor.tokenizer
    tokenizer.add_tokens([AddedToken(piece, normalized=False, special=False) for piece in script])
    model = transformers.Idefics3ForConditionalGeneration.from_pretrained(folder, local_files_only=True)
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    text_model = model.model.text_model
    hidden = text_model.config.hidden_size
    if len(script) + 2 > hidden:
        raise ValueError(f"a script of {len(script)} pieces needs a hidden size over {len(script) + 1}")
    start = tokenizer.convert_tokens_to_ids(":")
    chain = [start, *tokenizer.convert_tokens_to_ids(list(script)), tokenizer.eos_token_id]
    with torch.no_grad():
        for layer in text_model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        embeddings = text_model.get_input_embeddings().weight
        head = torch.zeros(embeddings.shape[0], hidden)
        for step, (token, following) in enumerate(zip(chain, chain[1:], strict=False)):
            embeddings[token] = 0.0
            embeddings[token, step] = 1.0
            head[following, step] = 10.0
        model.lm_head = torch.nn.Linear(hidden, embeddings.shape[0], bias=False)
        model.lm_head.weight.copy_(head)
    model.config.tie_word_embeddings = False
    text_config: Any = model.config.text_config
    text_config.tie_word_embeddings = False
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _rewrite_json(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data, indent=1))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TransformersServer:
    """`transformers serve FOLDER` on 127.0.0.1, pinned to the model, on the CPU, for one test module."""

    def __init__(self, model: Path, log_file: Path, port: int | None = None) -> None:
        self.model = str(model)
        self.port = port or free_port()
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> TransformersServer:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
        command = [
            str(VENV_BIN / "transformers"),
            "serve",
            self.model,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--device",
            "cpu",
            "--dtype",
            "float32",
        ]
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"transformers serve exited:\n{self.log_file.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1.0) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"transformers serve did not answer within {timeout:g} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> TransformersServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


@pytest.fixture(scope="session")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransformersServer]:
    """A real `transformers serve` on the scripted tiny SmolVLM, for the whole test run."""
    folder = build_scripted_smolvlm(tmp_path_factory.mktemp("scripted-smolvlm"))
    log = tmp_path_factory.mktemp("serve") / "transformers-serve.log"
    with TransformersServer(folder, log) as server:
        yield server


@pytest.fixture
def fault_proxy(model_server: TransformersServer) -> Iterator[FaultProxy]:
    """A `FaultProxy` in front of `model_server`, passing everything on until a test sets its fault."""
    proxy = FaultProxy(model_server.url).start()
    yield proxy
    proxy.stop()
