"""With no model server set, nothing opens a connection anywhere: whole command-line runs (describe in
detail, ask, read) with every socket connect and name lookup audited (`sys.addaudithook`, which sees
every `socket.connect`, `getaddrinfo` and `sendto`, whichever Python library makes them). The same audit
run with a server set sees the connection to it, so the audit itself is shown to work.

A whole window run is audited too: the app in its own process (offscreen), captioning a recording,
describing its camera picture and reading it when `assistant send` asks, then quitting. Beside the
Python audit, `strace` records every connect and addressed send of the process and its children at the
system-call level, which also sees what C libraries do (Qt, PortAudio, ffmpeg); only Unix sockets
(D-Bus, PulseAudio, X, the instance socket), netlink (the C library listing interfaces) and loopback
addresses may appear."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers.model_server import TransformersServer
from tests.helpers.polling import poll_until
from tests.helpers.tiny_models import build_smolvlm

pytestmark = pytest.mark.timeout(240)

AUDITED = """
import json, sys
events = []
WATCHED = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
           "socket.sendto", "socket.sendmsg"}

def audit(event, args):
    if event in WATCHED:
        target = args[1] if event.startswith("socket.send") or event == "socket.connect" else args[0]
        events.append([event, repr(target)])

sys.addaudithook(audit)
from assistant.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    json.dump(events, out)
sys.exit(code)
"""


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("privacy") / "desk.png"
    frame = np.full((240, 320, 3), 230, np.uint8)
    frame[80:200, 40:140] = (200, 30, 30)
    Image.fromarray(frame).save(path)
    return path


@pytest.fixture(scope="module")
def scene_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_smolvlm(tmp_path_factory.mktemp("privacy-smolvlm"))


def _audited_run(arguments: list[str], tmp_path: Path) -> tuple[list[list[str]], str]:
    record = tmp_path / "connections.json"
    env = {name: value for name, value in os.environ.items() if not name.startswith("ASSISTANT_SERVER")}
    env["HF_HUB_OFFLINE"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", AUDITED, str(record), *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(record.read_text()), done.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["describe", "{picture}", "--detail", "detailed", "--model", "{model}", "--json"],
        ["ask", "{picture}", "what", "is", "on", "the", "desk", "--model", "{model}"],
        ["read", "{picture}", "--json"],
    ],
    ids=["describe", "ask", "read"],
)
def test_with_no_server_set_a_full_run_opens_no_connection(
    command: list[str], picture: Path, scene_model: Path, tmp_path: Path
) -> None:
    arguments = [part.format(picture=picture, model=scene_model) for part in command]
    connections, out = _audited_run(arguments, tmp_path)
    assert out.strip()  # it did answer
    assert connections == []


def test_the_audit_sees_the_connection_when_a_server_is_set(
    model_server: TransformersServer, picture: Path, tmp_path: Path
) -> None:
    arguments = ["describe", str(picture), "--detail", "detailed", "--server", model_server.url, "--json"]
    connections, out = _audited_run(arguments, tmp_path)
    assert json.loads(out)["remote"] is True
    connects = [target for event, target in connections if event == "socket.connect"]
    assert connects and all(f"'127.0.0.1', {model_server.port}" in target for target in connects)


# -- a whole window run -------------------------------------------------------------------------------

AUDITED_APP = """
import json, os, socket, sys
record = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
WATCHED = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
           "socket.sendto", "socket.sendmsg"}

def audit(event, args):
    if event not in WATCHED:
        return
    if event == "socket.connect" or event.startswith("socket.send"):
        family, target = int(getattr(args[0], "family", -1)), args[1]
    else:
        family, target = -1, args[0]
    if isinstance(target, bytes):
        target = target.decode("utf-8", "replace")
    line = json.dumps([event, family, target if isinstance(target, (str, int, type(None))) else list(target)])
    os.write(record, line.encode() + b"\\n")  # at once: the app may be ended before it returns

sys.addaudithook(audit)
from assistant.cli import main
sys.exit(main(sys.argv[2:]))
"""
LOOPBACK_NAMES = {None, "", "localhost", "127.0.0.1", "::1"}
WINDOW_RUN_S = 150


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host in LOOPBACK_NAMES


def _strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(
        ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect", "-o", os.devnull, "true"],
        capture_output=True,
        timeout=20,
        check=False,
    )
    return probe.returncode == 0  # ptrace may be refused in a locked-down container


def _strace_leaks(log: Path) -> list[str]:
    """The system calls in `log` that address anything but a Unix socket, netlink or loopback."""
    leaks = []
    for line in log.read_text(errors="replace").splitlines():
        families = re.findall(r"sa_family=(AF_[A-Z0-9]+)", line)
        for family in families:
            if family in ("AF_UNIX", "AF_LOCAL", "AF_NETLINK", "AF_UNSPEC"):
                continue
            addresses = re.findall(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"', line)
            hosts = [v4 or v6 for v4, v6 in addresses]
            if family not in ("AF_INET", "AF_INET6") or not hosts or not all(_loopback(h) for h in hosts):
                leaks.append(line)
    return leaks


def _python_leaks(record: Path) -> list[list[object]]:
    leaks = []
    for line in record.read_text().splitlines():
        event, family, target = json.loads(line)
        if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
            if target not in LOOPBACK_NAMES and not _loopback(str(target)):
                leaks.append([event, family, target])
        elif family == 1:  # AF_UNIX: D-Bus, PulseAudio, X, the instance socket
            continue
        elif not (isinstance(target, list) and target and _loopback(str(target[0]))):
            leaks.append([event, family, target])
    return leaks


def test_with_no_server_set_a_whole_window_run_connects_to_nothing_beyond_this_computer(
    picture: Path, scene_model: Path, test_data: Path, tmp_path: Path
) -> None:
    from ui.settings import Key, Settings

    settings = Settings(tmp_path / "settings.ini")
    settings.set(Key.VOICE_OUTPUT, "off")
    settings.set(Key.SCENE_MODEL, str(scene_model))
    settings.sync()
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    trace, record, transcript = (
        tmp_path / "trace.jsonl",
        tmp_path / "connections.jsonl",
        tmp_path / "captions.txt",
    )
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ASSISTANT_SERVER", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
        and name not in ("DISPLAY", "WAYLAND_DISPLAY")  # offscreen: no display server at all
    }  # not offline: nothing may reach for the model hub even when it is allowed to
    env.update(QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(runtime), ASSISTANT_TRACE=str(trace))
    strace_log = tmp_path / "strace.txt"
    strace = (
        [
            "strace",
            "-f",
            "-qq",
            "--seccomp-bpf",  # stops the process only at the calls traced, not at every call
            "-e",
            "trace=connect,sendto,sendmsg",
            "-e",
            "signal=none",
            "-o",
            str(strace_log),
        ]
        if _strace_works()
        else []
    )
    app_args = ["app", "--camera", str(picture), "--input", str(test_data / "speech" / "jfk.flac"),
                "--settings", settings.file_name, "--transcript", str(transcript)]  # fmt: skip
    log = (tmp_path / "app.log").open("wb")
    app = subprocess.Popen(
        [*strace, sys.executable, "-c", AUDITED_APP, str(record), *app_args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def events(kind: str) -> list[dict[str, object]]:
        if not trace.exists():
            return []
        lines = trace.read_text().splitlines()
        return [event for line in lines[:-1] if (event := json.loads(line))["event"] == kind]

    def send(name: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "assistant", "send", name],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def app_log() -> str:
        return (tmp_path / "app.log").read_text(errors="replace")[-3000:]

    try:
        poll_until(lambda: events("status"), 60, lambda: f"window (app log: {app_log()})")
        poll_until(lambda: any("camera: watching" in str(e["text"]) for e in events("status")), 60, app_log)
        send("describe")
        poll_until(lambda: events("description"), 90, lambda: f"description (app log: {app_log()})")
        send("read")
        poll_until(lambda: len(events("description")) >= 2, 90, lambda: f"reading (app log: {app_log()})")
        # The clip's last words: captions are done with the file before the app is asked to quit.
        poll_until(
            # (words, not lines: a line may break anywhere in the sentence)
            lambda: "do for your country" in " ".join(transcript.read_text().lower().split())
            if transcript.exists()
            else None,
            120,
            lambda: f"captions (app log: {app_log()})",
        )
        send("quit")
        assert app.wait(timeout=30) == 0, app_log()
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
        log.close()

    described, read = events("description")[:2]
    assert not str(described["text"]).startswith("From the server")
    assert _python_leaks(record) == []
    if strace:
        calls = strace_log.read_text(errors="replace")
        assert "sendto(" in calls and "quit" in calls  # it saw the app answer `send quit`: the trace is real
        assert _strace_leaks(strace_log) == []
