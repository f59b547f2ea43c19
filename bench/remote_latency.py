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
4. **N app instances at once** (N = 1, 4, 8): N processes, each the real window (`AppController`,
   offscreen, its settings pointing at the server), started and readied (the server's model looked up),
   then all asked for a detailed description at the same moment (a file they all watch). Each runs a
   10 ms `QTimer` heartbeat on its GUI thread from the ask until its answer is shown; printed: answers
   that arrived (and were the server's), medians of the first sentence and the whole answer, and the
   longest heartbeat gap of each instance (target: stall <= 50 ms, a gap of at most 60 ms), with the
   CPU time the GUI thread and its process used in that gap (so a gap the operating system caused, by
   giving the instance no core, is told from one the GUI thread caused), and the GUI thread's longest
   run of its own between two ticks. Then the same against a stalled server (a proxy holding the answer
   back for 3 s, a 1 s timeout): each must give the server up on time (timed from the ask to the end
   of the server describer's call) and show the on-device answer (the quick cues: no scene model is
   loaded) and say why.

Medians, because this machine is shared and noisy. The server runs on the same two cores as the
clients here, so the N-client times measure this laptop, not a GPU server (see docs/server.md); with 8
windows and the server on two cores, a heartbeat gap is also the time the operating system gave the
instance no core at all, which the stall target does not excuse but does explain.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
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


# -- N app instances ---------------------------------------------------------------------------------

HEARTBEAT_MS = 10
INSTANCE_START_S = 180.0


def instance(url: str, model: str, timeout: float, go_file: str, folder: str) -> int:
    """One app instance (run as `--instance`): the real window offscreen, asked for a detailed description
    when `go_file` appears; prints "ready", then one JSON line of what it measured."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from assistant.session import REMOTE_MARK, Overrides
    from ui.controller import AppController
    from ui.settings import Key, Settings

    qt = QApplication([])
    settings = Settings(Path(folder) / "settings.ini")
    settings.set(Key.VOICE_OUTPUT, "off")
    settings.set(Key.CAMERA, "")
    settings.set(Key.CAPTIONS_AT_START, False)
    settings.set(Key.SERVER_ENABLED, True)
    settings.set(Key.SERVER_URL, url)
    settings.set(Key.SERVER_MODEL, model)
    settings.set(Key.SERVER_TIMEOUT, timeout)
    settings.set_server_consent(url.removeprefix("http://"))
    frame = _frame()
    # What the on-device answer takes by itself, warm (a running app has looked before): the quick cues,
    # since no scene model is loaded. The stalled-server runs count their lateness beyond it.
    from assistant.vision.describe import FallbackDescriber

    cues = FallbackDescriber()
    cues.describe(frame, "detailed")
    started = time.perf_counter()
    cues.describe(frame, "detailed")
    alone = time.perf_counter() - started
    app = AppController(settings, Overrides(captions_at_start=False))
    app.start(load_models=False)
    # When the server's describer gives up (or answers), timed from the ask: wrapped, not changed.
    describer = app.session.server()
    assert describer is not None
    server_describe = describer.describe

    def timed_describe(*args: Any, **kwargs: Any) -> Any:
        try:
            return server_describe(*args, **kwargs)
        finally:
            measured["server_done"] = time.perf_counter() - asked[0]

    describer.describe = timed_describe  # type: ignore[method-assign]
    # Each tick: (wall, the GUI thread's CPU time, the whole process's CPU time). Over the longest gap
    # these say whether the GUI thread was busy (its CPU time grew by the gap), waiting for the GIL while
    # the process's other threads worked (the process's grew, its own did not), or given no core at all
    # by the operating system (neither grew).
    ticks: list[tuple[float, float, float]] = []
    heard: list[float] = []
    measured: dict[str, Any] = {}
    asked = [0.0]

    def status_lines() -> list[str]:
        status_list = app.window.status_list
        return [status_list.item(row).text() for row in range(status_list.count())]

    def on_shown(text: str) -> None:
        measured.update(whole=time.perf_counter() - asked[0], remote=text.startswith(REMOTE_MARK), text=text)
        QTimer.singleShot(200, finish)  # keep the heartbeat a little after the answer, then report

    def finish() -> None:
        heartbeat.stop()
        gaps = [(b[0] - a[0], b[1] - a[1], b[2] - a[2]) for a, b in zip(ticks, ticks[1:], strict=False)]
        longest = max(gaps) if gaps else (0.0, 0.0, 0.0)
        measured.update(
            first_sentence=heard[0] if heard else None,
            longest_gap=longest[0] if gaps else None,
            gap_gui_cpu=longest[1],
            gap_process_cpu=longest[2],
            gui_busy=max((gap[1] for gap in gaps), default=0.0),
            alone=alone,
            ticks=len(ticks),
            statuses=status_lines()[:6],
        )
        print(json.dumps(measured), flush=True)
        app.shutdown()
        qt.quit()

    def go() -> None:
        if not os.path.exists(go_file):
            return
        poll.stop()
        heartbeat.start(HEARTBEAT_MS)
        asked[0] = time.perf_counter()
        app.frames.put(frame)
        app.vision.describe_detailed()

    def ready() -> None:
        if any("model server" in line and "ready" in line for line in status_lines()):
            wait_ready.stop()
            print("ready", flush=True)
            poll.start(2)

    heartbeat = QTimer()
    heartbeat.timeout.connect(
        lambda: ticks.append((time.perf_counter(), time.thread_time(), time.process_time()))
    )
    poll = QTimer()
    poll.timeout.connect(go)
    wait_ready = QTimer()
    wait_ready.timeout.connect(ready)
    wait_ready.start(20)
    app.description_ready.connect(on_shown)
    app.vision.streamed.connect(lambda _sentence: heard.append(time.perf_counter() - asked[0]))
    return qt.exec()


def app_instances(url: str, model: str, count: int, timeout: float, stalled: bool) -> None:
    """`count` app instances asking at once (see the module docstring, 4)."""
    with tempfile.TemporaryDirectory(prefix="remote-instances-") as folder:
        go_file = Path(folder) / "go"
        processes = []
        for number in range(count):
            home = Path(folder) / f"instance-{number}"
            home.mkdir()
            command = [
                sys.executable,
                __file__,
                "--instance",
                url,
                model or "",
                str(timeout),
                str(go_file),
                str(home),
            ]
            processes.append(
                subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            )
        try:
            for process in processes:
                assert process.stdout is not None
                line = process.stdout.readline().strip()
                if line != "ready":
                    raise RuntimeError(f"an instance did not get ready (it said {line!r})")
            go_file.touch()
            results = []
            for process in processes:
                out, _ = process.communicate(timeout=INSTANCE_START_S)
                results.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
    gaps = [r["longest_gap"] * 1000 for r in results if r.get("longest_gap") is not None]
    wholes = [r["whole"] * 1000 for r in results if "whole" in r]
    worst = max(results, key=lambda r: r.get("longest_gap") or 0.0)
    why = (
        f"      in the worst gap the GUI thread ran {worst['gap_gui_cpu'] * 1000:.0f} ms and its whole "
        f"process {worst['gap_process_cpu'] * 1000:.0f} ms of CPU; the GUI thread's longest run between "
        f"two ticks, any instance: {max(r['gui_busy'] for r in results) * 1000:.0f} ms"
    )
    if stalled:
        said = sum(any("did not start answering" in line for line in r["statuses"]) for r in results)
        on_device = sum(not r["remote"] for r in results)
        late = [(r["server_done"] - timeout) * 1000 for r in results]
        print(
            f"   N={count}: {on_device}/{count} answered on this computer, {said}/{count} said why; shown "
            f"{statistics.median(wholes):6.0f} ms after asking (median; the on-device answer alone took "
            f"{statistics.median(r['alone'] for r in results) * 1000:.0f} ms); the server given up "
            f"{statistics.median(late):4.0f} ms after the {timeout * 1000:.0f} ms timeout (median), "
            f"{max(late):4.0f} ms (latest); longest heartbeat "
            f"gap {statistics.median(gaps):5.0f} ms (median of instances), {max(gaps):5.0f} ms (worst)"
        )
        print(why)
        return
    firsts = [r["first_sentence"] * 1000 for r in results if r.get("first_sentence") is not None]
    remote = sum(bool(r.get("remote")) for r in results)
    print(
        f"   N={count}: {len(wholes)}/{count} answers arrived, {remote} from the server; first sentence "
        f"{statistics.median(firsts) if firsts else float('nan'):6.0f} ms, whole answer "
        f"{statistics.median(wholes):6.0f} ms (medians); longest heartbeat gap "
        f"{statistics.median(gaps):5.0f} ms (median of instances), {max(gaps):5.0f} ms (worst)"
    )
    print(why)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15, help="paired runs for the overhead (default 15)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of N clients at once (default 3)")
    parser.add_argument("--server", metavar="URL", help="measure this server instead of a local one")
    parser.add_argument("--model", metavar="NAME", help="the model on --server")
    parser.add_argument("--only-instances", action="store_true", help="run only part 4, the N app instances")
    parser.add_argument("--instance", nargs=5, help=argparse.SUPPRESS)  # one app instance of part 4
    args = parser.parse_args()
    if args.instance:
        url, model, timeout, go_file, folder = args.instance
        return instance(url, model, float(timeout), go_file, folder)
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
            if not args.only_instances:
                overhead(url, model, args.runs)
                print(f"\n2. clients asking at once, {args.rounds} rounds each (medians)")
                for clients in (1, 4, 8):
                    concurrent(url, model, clients, args.rounds)
                print("\n3. timeouts: the server holds the answer back for 3 s, the timeout is 1 s")
                for clients in (1, 4, 8):
                    timeouts(url, model, clients)
            print("\n4. app instances (the real window, offscreen) asking at once; stall target <= 50 ms")
            for count in (1, 4, 8):
                app_instances(url, model, count, 60.0, stalled=False)
            print("   the server stalled (3 s before its first words), the timeout 1 s:")
            proxy = FaultProxy(url).start()
            proxy.fault = Fault(delay_first=3.0)
            try:
                for count in (1, 4, 8):
                    app_instances(proxy.url, model, count, 1.0, stalled=True)
            finally:
                proxy.stop()
        finally:
            if server is not None:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
