"""With no model server set, nothing opens a connection anywhere: whole command-line runs (describe in
detail, ask, read) with every socket connect and name lookup audited (`sys.addaudithook`, which sees
every `socket.connect`, `getaddrinfo` and `sendto`, whichever library makes them). The same audit run
with a server set sees the connection to it, so the audit itself is shown to work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers.model_server import TransformersServer
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
