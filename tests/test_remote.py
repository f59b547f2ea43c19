"""The model server, for real: a `transformers serve` process on a tiny scripted SmolVLM (the
`model_server` fixture of `tests/helpers/model_server.py`), reached through the `openai` client, with a
fault-injecting proxy in front of it (`tests/helpers/fault_proxy.py`) for the faults the server cannot
show by itself."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.cli import main
from assistant.session import REMOTE_MARK, Config, ResultKind, Route, Session, result_json
from assistant.vision.describe import SceneDescriber, load_describer
from assistant.vision.image import Frame
from tests.helpers.fault_proxy import Fault, FaultProxy
from tests.helpers.model_server import (
    SCRIPT,
    SCRIPT_SENTENCES,
    SCRIPT_TEXT,
    TransformersServer,
    free_port,
)
from tests.helpers.tiny_models import build_smolvlm

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def proxy(fault_proxy: FaultProxy) -> FaultProxy:
    return fault_proxy


@pytest.fixture(scope="module")
def on_device(tmp_path_factory: pytest.TempPathFactory) -> SceneDescriber:
    """The on-device model that answers when the server does not: a tiny random SmolVLM."""
    folder = build_smolvlm(tmp_path_factory.mktemp("on-device-smolvlm"))
    return load_describer(str(folder), quantize=False, question_model=None)


@pytest.fixture(scope="module")
def desk() -> Frame:
    frame = np.full((480, 640, 3), 235, np.uint8)
    frame[200:400, 40:200] = (200, 30, 30)
    return frame


@pytest.fixture(scope="module")
def street() -> Frame:
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:240] = (40, 90, 200)
    frame[240:] = (60, 60, 60)
    return frame


def _session(url: str, on_device: SceneDescriber, timeout: float = 8.0) -> Session:
    return Session(Config(server_url=url, server_timeout=timeout), load_scene=lambda: on_device)


def _bodies(proxy: FaultProxy) -> list[dict[str, Any]]:
    return [json.loads(body) for body in proxy.bodies if body]


# -- answers from the server ------------------------------------------------------------------------


def test_first_sentence_reaches_the_callback_before_the_last_token_arrives(
    proxy: FaultProxy, on_device: SceneDescriber, desk: Frame
) -> None:
    # The proxy passes each server-sent event on 0.15 s after the one before, as a busy server would.
    proxy.fault = Fault(delay_each=0.15)
    session = _session(proxy.url, on_device)
    heard: list[tuple[float, int, str]] = []
    started = time.monotonic()
    result = session.describe(
        desk,
        "detailed",
        wait=True,
        on_sentence=lambda s: heard.append((time.monotonic() - started, proxy.events_sent, s)),
    )
    finished = time.monotonic() - started
    assert [sentence for _, _, sentence in heard] == [
        REMOTE_MARK + SCRIPT_SENTENCES[0],
        *SCRIPT_SENTENCES[1:],
    ]
    first_time, events_by_then, _ = heard[0]
    # Role, then one event per script piece, then the finishing event: the first sentence was complete
    # when " Behind it" came, while four pieces and the finish were still on their way.
    total_events = 1 + len(SCRIPT) + 1
    assert proxy.events_sent == total_events
    assert events_by_then <= 1 + 4 < total_events - 1
    assert first_time < finished - 4 * 0.15
    assert result.remote and result.spoken and result.kind is ResultKind.DESCRIPTION
    assert result.text == REMOTE_MARK + SCRIPT_TEXT
    assert not result.notice and not result.fallback


def test_results_are_marked_as_from_the_server_in_text_and_json(
    model_server: TransformersServer, on_device: SceneDescriber, desk: Frame
) -> None:
    session = _session(model_server.url, on_device)
    answer = session.ask(desk, "What colour is the mug?", wait=True)
    assert answer.text.startswith("From the server: A red mug") and answer.remote
    assert answer.model.endswith(f"on 127.0.0.1:{model_server.port}")
    reading = session.read(desk)
    assert reading.remote and reading.kind is ResultKind.TEXT and reading.text.startswith(REMOTE_MARK)
    assert result_json(answer)["remote"] is True


def test_a_follow_up_keeps_the_picture_and_earlier_answers_until_the_scene_changes(
    proxy: FaultProxy, on_device: SceneDescriber, desk: Frame, street: Frame
) -> None:
    session = _session(proxy.url, on_device)
    session.ask(desk, "What is on the desk?", wait=True)
    # The camera's next frame of the same scene: a little noise, the same view.
    noisy = np.clip(desk.astype(np.int16) + np.random.default_rng(1).integers(-6, 7, desk.shape), 0, 255)
    session.ask(noisy.astype(np.uint8), "And what colour is it?", wait=True)
    session.ask(street, "Where am I?", wait=True)
    first, follow_up, new_scene = [body for body in _bodies(proxy) if "messages" in body]
    messages = follow_up["messages"]
    assert isinstance(messages, list)
    assert [message["role"] for message in messages] == ["system", "user", "assistant", "user"]
    assert messages[1] == first["messages"][1]  # the same picture, sent once
    assert messages[2]["content"] == SCRIPT_TEXT  # the earlier answer
    assert messages[3]["content"] == "And what colour is it?"
    assert json.dumps(messages).count("data:image/jpeg;base64,") == 1
    roles = [message["role"] for message in new_scene["messages"]]
    assert roles == ["system", "user"]  # a new scene starts a new conversation, with its own picture


def test_the_picture_is_a_jpeg_data_url_with_its_long_side_at_the_setting(
    proxy: FaultProxy, on_device: SceneDescriber
) -> None:
    import base64
    import io

    from PIL import Image

    big = np.zeros((1200, 1600, 3), np.uint8)
    session = Session(Config(server_url=proxy.url, server_image_size=512), load_scene=lambda: on_device)
    session.describe(big, "detailed", wait=True)
    (body,) = _bodies(proxy)[-1:]
    url = body["messages"][1]["content"][0]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as picture:
        assert picture.format == "JPEG" and picture.size == (512, 384)
    system = body["messages"][0]["content"]
    assert "blind" in system and "The image shows" in system  # the prompt forbids that preamble


def test_brief_descriptions_and_narration_stay_on_device(
    proxy: FaultProxy, on_device: SceneDescriber, desk: Frame
) -> None:
    session = _session(proxy.url, on_device)
    brief = session.describe(desk, "brief", wait=True)
    session.scene.load()
    narrated = session.narrate(desk)
    assert not brief.remote and not narrated.remote and proxy.requests == 0
    assert session.server_host_for("describe-brief") is None
    assert session.server_host_for("ask") == proxy.url.removeprefix("http://")


# -- pinning a command to the server or to this computer ---------------------------------------------


def test_a_question_pinned_to_this_computer_sends_nothing_to_the_server(
    proxy: FaultProxy, on_device: SceneDescriber, desk: Frame
) -> None:
    session = Session(
        Config(server_url=proxy.url, routes={"ask": Route.DEVICE}), load_scene=lambda: on_device
    )
    heard: list[str] = []
    answer = session.ask(desk, "What is on the desk?", wait=True, on_sentence=heard.append)
    assert proxy.requests == 0  # not even the model list: the server was never asked
    assert not answer.remote and not answer.notice and answer.model == on_device.model_name
    assert heard == [] and not answer.text.startswith(REMOTE_MARK)
    assert session.server_host_for("ask") is None  # the window's status says nothing is sent
    # The same session still sends what is not pinned: the server was there all along.
    assert session.describe(desk, "detailed", wait=True).remote and proxy.requests > 0


@pytest.mark.parametrize("pinned", ["describe-brief", "describe-detailed"])
def test_a_description_pinned_to_the_server_is_answered_there_and_narration_stays_here(
    pinned: str, proxy: FaultProxy, on_device: SceneDescriber, desk: Frame
) -> None:
    session = Session(
        Config(server_url=proxy.url, routes={pinned: Route.SERVER}), load_scene=lambda: on_device
    )
    detail = "brief" if pinned == "describe-brief" else "detailed"
    heard: list[str] = []
    result = session.describe(desk, detail, wait=True, on_sentence=heard.append)
    assert result.remote and result.text == REMOTE_MARK + SCRIPT_TEXT
    assert heard[0] == REMOTE_MARK + SCRIPT_SENTENCES[0]
    assert session.server_host_for(pinned) == proxy.url.removeprefix("http://")
    chats = len([body for body in _bodies(proxy) if "messages" in body])
    assert chats == 1
    assert not session.narrate(desk).remote  # narration is never sent, whatever is pinned
    assert len([body for body in _bodies(proxy) if "messages" in body]) == chats


def test_a_command_pinned_to_the_server_stays_here_when_no_server_is_set(
    on_device: SceneDescriber, desk: Frame
) -> None:
    session = Session(Config(routes={"ask": Route.SERVER}), load_scene=lambda: on_device)
    answer = session.ask(desk, "What is it?", wait=True)
    assert not answer.remote and not answer.notice and session.server_host_for("ask") is None


def test_command_line_describe_ask_and_read_through_the_server(
    model_server: TransformersServer, tmp_path: Path, desk: Frame, capfd: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    picture = tmp_path / "desk.png"
    Image.fromarray(desk).save(picture)
    server = ["--server", model_server.url]
    assert main(["describe", str(picture), "--detail", "detailed", *server, "--json"]) == 0
    described = json.loads(capfd.readouterr().out)
    assert described["remote"] is True and described["text"] == REMOTE_MARK + SCRIPT_TEXT

    assert main(["ask", str(picture), "what", "colour", "is", "the", "mug", *server]) == 0
    out, err = capfd.readouterr()
    assert out == REMOTE_MARK + SCRIPT_TEXT + "\n" and err == ""

    assert main(["read", str(picture), *server, "--model", model_server.model, "--json"]) == 0
    read = json.loads(capfd.readouterr().out)
    assert read["remote"] is True and read["text"].startswith(REMOTE_MARK)


def test_command_line_takes_the_server_from_the_environment(
    model_server: TransformersServer,
    tmp_path: Path,
    desk: Frame,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PIL import Image

    picture = tmp_path / "desk.png"
    Image.fromarray(desk).save(picture)
    monkeypatch.setenv("ASSISTANT_SERVER_URL", model_server.url)
    monkeypatch.setenv("ASSISTANT_SERVER_MODEL", model_server.model)
    assert main(["describe", str(picture), "--question", "is there a sign", "--json"]) == 0
    answer = json.loads(capfd.readouterr().out)
    assert answer["remote"] is True and answer["answer"].startswith(REMOTE_MARK)


# -- faults: each ends in the on-device answer and one clear message ---------------------------------

FAULTS = {
    "slow first token": (Fault(delay_first=4.0), "did not start answering within 1 s"),
    "dropped mid-stream": (Fault(drop_after=3), "broke off"),
    "401": (Fault(status=401), "refused the API key (HTTP 401)"),
    "500": (Fault(status=500), "answered with an error (HTTP 500"),
    "garbage SSE": (Fault(garbage=True), "could not be read"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_server_gives_the_on_device_answer_and_says_why_once(
    fault: str,
    proxy: FaultProxy,
    on_device: SceneDescriber,
    desk: Frame,
    caplog: pytest.LogCaptureFixture,
) -> None:
    session = _session(proxy.url, on_device, timeout=1.0)
    session.scene.load()
    session.prepare_server()  # as the window does when the server is turned on
    proxy.fault, expected = FAULTS[fault]
    heard: list[str] = []
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    on_device.ask(desk, "What is on the desk?")  # what the on-device answer takes by itself
    alone = time.monotonic() - started
    started = time.monotonic()
    first = session.ask(desk, "What is on the desk?", on_sentence=heard.append)
    took = time.monotonic() - started - alone
    again = session.describe(desk, "detailed", on_sentence=heard.append)
    assert took < 1.0 + 1.0, f"{fault}: gave up after {took:.1f} s (beyond the on-device answer's time)"
    for result in (first, again):
        assert not result.remote and not result.spoken
        assert result.model == on_device.model_name and not result.text.startswith(REMOTE_MARK)
    assert expected in first.notice and f"127.0.0.1:{proxy.url.rsplit(':', 1)[1]}" in first.notice
    assert first.notice.endswith("Answering on this computer instead.") and "\n" not in first.notice
    assert again.notice == ""  # said once: the same failure is not repeated with every answer
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert "Traceback" not in caplog.text


def test_after_the_server_recovers_a_new_failure_is_said_again(
    proxy: FaultProxy, on_device: SceneDescriber, desk: Frame
) -> None:
    session = _session(proxy.url, on_device, timeout=1.0)
    session.scene.load()
    proxy.fault = Fault(status=500)
    assert session.ask(desk, "What is it?").notice
    proxy.fault = Fault()
    assert session.ask(desk, "What is it?").remote
    proxy.fault = Fault(status=500)
    assert session.ask(desk, "What is it?").notice


def test_no_server_listening_is_one_message_and_the_on_device_answer(
    on_device: SceneDescriber, desk: Frame
) -> None:
    session = _session(f"http://127.0.0.1:{free_port()}", on_device)
    session.scene.load()
    started = time.monotonic()
    result = session.ask(desk, "What is it?")
    assert time.monotonic() - started < 3.0
    assert "Cannot reach the server 127.0.0.1:" in result.notice and "connection refused" in result.notice
    assert not result.remote and result.kind is ResultKind.ANSWER


def test_an_unknown_model_on_the_real_server_is_its_own_error_message(
    model_server: TransformersServer, on_device: SceneDescriber, desk: Frame
) -> None:
    session = Session(
        Config(server_url=model_server.url, server_model="no-such-model"), load_scene=lambda: on_device
    )
    result = session.describe(desk, "detailed", wait=True)
    assert not result.remote and "HTTP 400" in result.notice and "pinned" in result.notice


def test_the_command_line_prints_the_reason_once_on_stderr_and_the_answer_on_stdout(
    proxy: FaultProxy, tmp_path: Path, desk: Frame, capfd: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    picture = tmp_path / "desk.png"
    Image.fromarray(desk).save(picture)
    proxy.fault = Fault(status=401)
    assert main(["ask", str(picture), "what", "is", "this", "--server", proxy.url, "--json"]) == 0
    out, err = capfd.readouterr()
    answer = json.loads(out)
    assert answer["remote"] is False and "HTTP 401" in answer["notice"]
    assert err.count("\n") <= 2 and "HTTP 401" in err and "Traceback" not in err


def test_plain_http_to_a_public_address_is_refused_before_anything_is_sent(
    on_device: SceneDescriber, desk: Frame
) -> None:
    session = Session(Config(server_url="http://8.8.8.8:8000"), load_scene=lambda: on_device)
    session.scene.load()
    result = session.ask(desk, "What is it?")
    assert "unencrypted" in result.notice and "8.8.8.8:8000" in result.notice and not result.remote
