"""Speech output: real eSpeak NG synthesis, played through a real PulseAudio null sink.

The controller tests record what started in which order through the `on_started` hook, and read the
stop and first-audio latencies that the speaker measures on every utterance.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.cli import main
from assistant.errors import AssistantError
from assistant.voice import (
    AudioOutputError,
    EspeakSpeaker,
    Priority,
    SpeechController,
    StopSignal,
    load_speaker,
    speak_text_blocking,
)
from assistant.voice.player import OUTPUT_LATENCY_S
from tests.helpers.pulse import PulseServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LONG_TEXT = (
    "This description goes on for a good while: a grey cat sleeps on a green sofa next to a window, "
    "a cup of coffee cools on the table, and the afternoon light moves slowly across the floor."
)


def _duration(path: Path) -> float:
    with wave.open(str(path), "rb") as recording:
        assert recording.getnchannels() == 1
        return recording.getnframes() / recording.getframerate()


# -- synthesis (no sound device needed) ----------------------------------------------------------


def test_synthesis_of_a_short_sentence_has_a_plausible_length_and_is_not_silent() -> None:
    speaker = load_speaker()
    audio = speaker.synthesize("The cat is sitting on the sofa.")
    assert speaker.sample_rate == 22_050
    assert audio.dtype == np.float32
    assert 0.5 < len(audio) / speaker.sample_rate < 5.0
    assert float(np.sqrt(np.mean(audio**2))) > 0.01


def test_a_faster_rate_gives_shorter_audio_and_volume_scales_the_samples() -> None:
    speaker = load_speaker(rate=120)
    slow = speaker.synthesize("Reading the page aloud.")
    speaker.configure(rate=360, volume=0.5)
    fast_quiet = speaker.synthesize("Reading the page aloud.")
    assert len(fast_quiet) < 0.6 * len(slow)
    assert 0.3 < np.abs(fast_quiet).max() / np.abs(slow).max() < 0.7


def test_an_unknown_voice_is_a_clear_error_and_a_known_one_works() -> None:
    with pytest.raises(AssistantError, match="unknown voice 'no-such-voice'.*--list-voices"):
        load_speaker(voice="no-such-voice")
    speaker = load_speaker(voice="gmw/en-us")
    assert any(voice.id == "gmw/en-us" for voice in speaker.voices())
    assert len(speaker.synthesize("Hello.")) > 0


def test_a_speaker_refuses_calls_from_a_thread_that_did_not_open_it() -> None:
    speaker = load_speaker()
    errors: list[BaseException] = []

    def use() -> None:
        try:
            speaker.synthesize("Hello.")
        except RuntimeError as error:
            errors.append(error)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join(5)
    assert errors and "thread" in str(errors[0])


def test_say_to_file_writes_a_wav_through_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "hello.wav"
    assert main(["say", "--to-file", str(out), "--rate", "200", "Hello, this is the assistant."]) == 0
    assert 0.5 < _duration(out) < 5.0
    assert "wrote" in capsys.readouterr().err


def test_say_lists_the_voices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["say", "--list-voices"]) == 0
    assert "gmw/en-us" in capsys.readouterr().out


def test_a_machine_without_espeak_gets_one_clear_line_and_exit_code_2(tmp_path: Path) -> None:
    # A child process whose pyttsx3 cannot load libespeak-ng (see tests/fakes/no_espeak).
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT / "tests/fakes/no_espeak"), str(PROJECT_ROOT)]),
    }
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "say", "--to-file", str(tmp_path / "x.wav"), "hello"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "assistant: speech output unavailable (libespeak-ng was not found: This means you probably do not "
        "have eSpeak or eSpeak-ng installed!): install espeak-ng (Debian: apt install espeak-ng)"
    ]
    assert not (tmp_path / "x.wav").exists()


def test_a_missing_output_device_is_a_clear_error_but_the_file_still_works(tmp_path: Path) -> None:
    speaker = load_speaker(output_device="no-such-output-device")
    with pytest.raises(AudioOutputError, match="no audio output device.*--to-file"):
        speaker.check_output()
    with pytest.raises(AudioOutputError):
        speaker.speak("Hello.", StopSignal())
    assert len(speaker.synthesize("Hello.")) > 0


def test_speak_text_blocking_warns_and_returns_when_speech_is_unavailable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    speak_text_blocking("Hello.", voice="no-such-voice")
    assert "not spoken: unknown voice" in capsys.readouterr().err


def test_the_controller_reports_a_missing_output_device_and_keeps_going() -> None:
    finished: list[str] = []
    errors: list[AssistantError] = []
    controller = SpeechController(
        lambda: load_speaker(output_device="no-such-output-device"),
        on_finished=finished.append,
        on_error=errors.append,
    )
    with controller:
        controller.say("first")
        controller.say("second")
        assert controller.wait_until_idle(5)
    assert finished == ["first", "second"]
    assert len(errors) == 2 and isinstance(errors[0], AudioOutputError)


def test_the_controller_start_raises_what_the_factory_raised() -> None:
    controller = SpeechController(lambda: load_speaker(voice="no-such-voice"))
    with pytest.raises(AssistantError, match="unknown voice"):
        controller.start()
    assert controller.close(timeout=1)


# -- playback through a real PulseAudio null sink -----------------------------------------------


@pytest.fixture(scope="module")
def awake_sink(pulse_server: PulseServer) -> Iterator[PulseServer]:
    """The pulse server with a silent low-latency stream playing into the null sink.

    WORKAROUND: an idle null sink sleeps in 2 s blocks (`pactl list sinks`: "configured 2000000 usec"),
    so a new stream's first callback waits up to 2 s; real sound cards (timer-scheduled ALSA sinks)
    rewind and start at once. A running stream keeps the null sink at low latency, like a real card."""
    import sounddevice as sd

    calls = 0
    running = threading.Event()

    def silence(outdata: np.ndarray, frames: int, time_info: object, status: object) -> None:
        nonlocal calls
        outdata.fill(0)
        calls += 1
        if calls > 20:  # past the pre-fill: the sink is consuming in real time
            running.set()

    # 0.1 s of buffer, as the voice's own player asks for. With "low" latency a late callback under load
    # underran the stream, the sink went back to its 2 s blocks, and the test's first audio came 2.0 s late
    # (in CI, and in 1 of 35 streams opened here; none of 45 with 0.1 s; 20 of each with both cores busy).
    stream = sd.OutputStream(
        samplerate=22_050, channels=1, dtype="float32", latency=OUTPUT_LATENCY_S, callback=silence
    )
    stream.start()
    try:
        assert running.wait(10), "the null sink did not start consuming audio"
        yield pulse_server
    finally:
        stream.abort()
        stream.close()


class Recorder:
    """The hooks of one controller: the order utterances started in, and when audio first flowed."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.audio_started = threading.Event()
        self.first_started = threading.Event()
        self.speakers: list[EspeakSpeaker] = []

    def on_started(self, text: str) -> None:
        self.started.append(text)
        self.first_started.set()

    def factory(self, rate: int = 450) -> EspeakSpeaker:
        speaker = load_speaker(rate=rate, on_audio_started=self.audio_started.set)
        self.speakers.append(speaker)
        return speaker


@pytest.fixture
def recorder(awake_sink: PulseServer) -> Iterator[tuple[SpeechController, Recorder]]:
    record = Recorder()
    controller = SpeechController(
        record.factory, on_started=record.on_started, on_finished=record.finished.append
    )
    controller.start()
    try:
        yield controller, record
    finally:
        assert controller.close(timeout=2)


@pytest.mark.pulse
@pytest.mark.timing
def test_interrupt_stops_playback_within_100_ms_and_first_audio_comes_within_300_ms(
    recorder: tuple[SpeechController, Recorder],
) -> None:
    controller, record = recorder
    controller.say(LONG_TEXT)
    assert record.audio_started.wait(5), "no audio reached the sink"
    assert controller.is_speaking
    controller.interrupt()
    assert controller.wait_until_idle(1)
    timing = record.speakers[0].last_timing
    print(f"\nvoice timing: {timing}")
    assert timing.first_audio_s is not None and timing.first_audio_s < 0.3
    assert timing.stop_latency_s is not None and timing.stop_latency_s < 0.1
    assert record.finished == [LONG_TEXT]
    assert not controller.is_speaking


@pytest.mark.pulse
def test_now_interrupts_and_clears_the_queue(recorder: tuple[SpeechController, Recorder]) -> None:
    controller, record = recorder
    controller.say(LONG_TEXT)
    controller.say("queued one")
    controller.say("queued two")
    assert record.audio_started.wait(5)
    controller.say("alert", Priority.NOW)
    assert controller.wait_until_idle(10)
    assert record.started == [LONG_TEXT, "alert"]


@pytest.mark.pulse
def test_next_jumps_the_queue_and_normal_keeps_its_order(recorder: tuple[SpeechController, Recorder]) -> None:
    controller, record = recorder
    controller.say("Reading the first line of the page.")
    assert record.first_started.wait(5)  # the first utterance is now current, not queued
    controller.say("one")
    controller.say("two")
    controller.say("answer", Priority.NEXT)
    controller.say("follow up", Priority.NEXT)
    controller.say("three")
    assert controller.wait_until_idle(20)
    assert record.started == [
        "Reading the first line of the page.",
        "answer",
        "follow up",
        "one",
        "two",
        "three",
    ]


@pytest.mark.pulse
def test_repeat_last_speaks_the_last_utterance_again(recorder: tuple[SpeechController, Recorder]) -> None:
    controller, record = recorder
    assert controller.repeat_last() is False
    controller.say("Two people at a table.")
    assert controller.wait_until_idle(10)
    assert controller.repeat_last() is True
    assert controller.wait_until_idle(10)
    assert record.started == ["Two people at a table.", "Two people at a table."]


@pytest.mark.pulse
def test_settings_apply_to_the_next_utterance_and_a_bad_voice_is_refused(
    recorder: tuple[SpeechController, Recorder],
) -> None:
    controller, record = recorder
    assert any(voice.id == "gmw/en-us" for voice in controller.voices())
    with pytest.raises(AssistantError, match="unknown voice"):
        controller.set_voice("no-such-voice")
    with pytest.raises(AssistantError, match="volume"):
        controller.set_volume(1.5)
    controller.set_voice("gmw/en-us")
    controller.set_rate(300)
    controller.set_volume(0.8)
    controller.say("Settings changed.")
    assert controller.wait_until_idle(10)
    assert record.finished == ["Settings changed."]


@pytest.mark.pulse
@pytest.mark.timing
def test_close_while_speaking_returns_promptly(awake_sink: PulseServer) -> None:
    record = Recorder()
    controller = SpeechController(lambda: record.factory(rate=120))
    controller.start()
    controller.say(LONG_TEXT)
    controller.say(LONG_TEXT)
    assert record.audio_started.wait(5)
    assert controller.close(timeout=1)
    assert not controller.is_speaking


@pytest.mark.pulse
def test_say_plays_through_the_command_line(awake_sink: PulseServer) -> None:
    assert main(["say", "--rate", "450", "Done."]) == 0
