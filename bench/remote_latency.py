"""The model-server client's own cost, and one server under several clients at once.

    .venv/bin/python bench/remote_latency.py [--runs 15] [--server URL --model NAME]

Without `--server` it starts a real `transformers serve` on loopback with the scripted tiny SmolVLM of the
tests (`tests/helpers/model_server.py`: it says three fixed sentences, so every run streams the same
tokens), and a `FaultProxy` in front of it for the timeout runs. With `--server` it measures that server
(on a GPU box, say) instead; the timeout runs then still go through a local proxy in front of it.

1. **Our overhead.** Paired runs, alternating: the raw `openai` client (a kept-alive client, the JPEG data
   URL already encoded, the same messages, reading the stream until the first sentence is complete) and
   `RemoteDescriber.describe` (encoding a 1280x720 photo to a 768 px JPEG, the scene fingerprint,
   the request, the helper thread that reads the stream, the sentence splitter, the callback). Both from
   the request's start; printed: medians of the raw time to first token and to first sentence, ours to
   first sentence, and the median of the paired differences (target: ≤ 60 ms).
2. **N clients at once** (N = 1, 4, 8), each its own `RemoteDescriber` on its own thread (as N app
   instances would be), all asking at the same moment: answers that arrived, medians of time to first
   sentence and to the whole answer.
3. **Timeouts on time.** N clients against a proxy that holds every answer back for 3 s, with a 1 s
   timeout: each must give up at 1 s; printed: how late the latest one was.

Medians, because this machine is shared and noisy. The server runs on the same two cores as the
clients here, so the N-client times measure this laptop, not a GPU server (see docs/server.md).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.remote.describer import (
    MAX_TOKENS,
    PROMPTS,
    SYSTEM_PROMPT,
    RemoteDescriber,
    ServerSettings,
    encode_image,
)
from assistant.remote.errors import ServerTimeoutError
from tests.helpers.data import load_photos
from tests.helpers.fault_proxy import Fault, FaultProxy
from tests.helpers.model_server import TransformersServer, build_scripted_smolvlm

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s")


def _frame() -> Any:
    """A camera-sized frame of a real photo (the coffee cup of the evaluation data, 1280x720)."""
    import cv2

    return cv2.resize(load_photos()[2], (1280, 720), interpolation=cv2.INTER_LINEAR)


def _raw(client: Any, model: str, image_url: str) -> tuple[float, float]:
    """(time to first token, time to first complete sentence) of one raw streamed call."""
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": image_url}},
                {"type": "text", "text": PROMPTS["detailed"]},
            ],
        },
    ]
    started = time.perf_counter()
    first_token = first_sentence = 0.0
    text = ""
    stream = client.chat.completions.create(
        model=model, messages=messages, max_tokens=MAX_TOKENS["detailed"], temperature=0.2, stream=True
    )
    for chunk in stream:
        if not chunk.choices or not chunk.choices[0].delta.content:
            continue
        now = time.perf_counter() - started
        first_token = first_token or now
        text += chunk.choices[0].delta.content
        if not first_sentence and _SENTENCE_END.search(text):
            first_sentence = now
    return first_token, first_sentence or (time.perf_counter() - started)


def _ours(describer: RemoteDescriber, frame: Any) -> float:
    """Time to the first sentence at the callback, from the call (a new conversation each time)."""
    describer.forget()
    heard: list[float] = []
    started = time.perf_counter()
    describer.describe(frame, "detailed", on_sentence=lambda _s: heard.append(time.perf_counter() - started))
    return heard[0]


def overhead(url: str, model: str, runs: int) -> None:
    import openai

    frame = _frame()
    image_url = encode_image(frame, 768)
    client = openai.OpenAI(base_url=url.rstrip("/") + "/v1", api_key="no-key", max_retries=0)
    describer = RemoteDescriber(ServerSettings(url=url, model=model))
    _raw(client, model, image_url)  # warm both: connections, the server's first request
    _ours(describer, frame)
    raw_ttft, raw_sentence, ours, differences = [], [], [], []
    for _ in range(runs):
        token, sentence = _raw(client, model, image_url)
        mine = _ours(describer, frame)
        raw_ttft.append(token)
        raw_sentence.append(sentence)
        ours.append(mine)
        differences.append(mine - sentence)
    encode = []
    for _ in range(runs):
        started = time.perf_counter()
        encode_image(frame, 768)
        encode.append(time.perf_counter() - started)
    ms = 1000.0
    print(f"\n1. our overhead, {runs} paired runs (medians, ms)")
    print(f"   raw openai client: first token {statistics.median(raw_ttft) * ms:7.1f}")
    print(f"   raw openai client: first sentence {statistics.median(raw_sentence) * ms:7.1f}")
    print(f"   RemoteDescriber: first sentence at the callback {statistics.median(ours) * ms:7.1f}")
    print(f"   of which encoding the 1280x720 photo to a 768 px JPEG {statistics.median(encode) * ms:7.1f}")
    print(f"   overhead (paired difference): {statistics.median(differences) * ms:7.1f}   target <= 60")


def concurrent(url: str, model: str, clients: int, rounds: int) -> None:
    frame = _frame()
    first: list[float] = []
    whole: list[float] = []
    arrived = 0
    lock = threading.Lock()
    describers = [
        RemoteDescriber(ServerSettings(url=url, model=model, first_token_timeout=120.0))
        for _ in range(clients)
    ]
    for describer in describers:  # connect and look up the model first, as a running app would have
        describer.list_models()
    for _ in range(rounds):
        gate = threading.Barrier(clients)

        def ask(describer: RemoteDescriber, gate: threading.Barrier = gate) -> None:
            nonlocal arrived
            describer.forget()
            heard: list[float] = []
            gate.wait()
            started = time.perf_counter()
            text = describer.describe(
                frame, "detailed", on_sentence=lambda _s: heard.append(time.perf_counter() - started)
            ).text
            took = time.perf_counter() - started
            with lock:
                arrived += bool(text)
                first.append(heard[0])
                whole.append(took)

        threads = [threading.Thread(target=ask, args=(d,)) for d in describers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    print(
        f"   N={clients}: {arrived}/{clients * rounds} answers arrived; first sentence "
        f"{statistics.median(first) * 1000:7.1f} ms, whole answer {statistics.median(whole) * 1000:7.1f} ms"
    )


def timeouts(url: str, model: str, clients: int, timeout: float = 1.0) -> None:
    proxy = FaultProxy(url).start()
    proxy.fault = Fault(delay_first=3.0)
    try:
        late: list[float] = []
        gate = threading.Barrier(clients)
        frame = _frame()

        describers = [
            RemoteDescriber(ServerSettings(url=proxy.url, model=model, first_token_timeout=timeout))
            for _ in range(clients)
        ]
        for describer in describers:  # a running app has its client already (the proxy lists at once)
            describer.list_models()

        def ask(describer: RemoteDescriber) -> None:
            gate.wait()
            started = time.perf_counter()
            try:
                describer.describe(frame, "detailed")
            except ServerTimeoutError:
                late.append(time.perf_counter() - started - timeout)

        threads = [threading.Thread(target=ask, args=(d,)) for d in describers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(
            f"   N={clients}: {len(late)}/{clients} gave up; after the {timeout:g} s timeout by "
            f"{statistics.median(late) * 1000:6.1f} ms (median), {max(late) * 1000:6.1f} ms (latest)"
        )
    finally:
        proxy.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15, help="paired runs for the overhead (default 15)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of N clients at once (default 3)")
    parser.add_argument("--server", metavar="URL", help="measure this server instead of a local one")
    parser.add_argument("--model", metavar="NAME", help="the model on --server")
    args = parser.parse_args()
    server: TransformersServer | None = None
    with tempfile.TemporaryDirectory(prefix="remote-bench-") as folder:
        if args.server:
            url, model = args.server.rstrip("/").removesuffix("/v1"), args.model or ""
        else:
            print("starting transformers serve on the scripted tiny SmolVLM ...", flush=True)
            scripted = build_scripted_smolvlm(Path(folder) / "scripted-smolvlm")
            server = TransformersServer(scripted, Path(folder) / "serve.log").start()
            url, model = server.url, server.model
        try:
            overhead(url, model, args.runs)
            print(f"\n2. clients asking at once, {args.rounds} rounds each (medians)")
            for clients in (1, 4, 8):
                concurrent(url, model, clients, args.rounds)
            print("\n3. timeouts: the server holds the answer back for 3 s, the timeout is 1 s")
            for clients in (1, 4, 8):
                timeouts(url, model, clients)
        finally:
            if server is not None:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
