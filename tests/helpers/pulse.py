"""A real PulseAudio server for audio tests: a null sink (a virtual speaker) whose monitor feeds a virtual
source (a virtual microphone), both set as defaults.

Whatever `play()` sends into the sink comes out of the sink's monitor (what `SystemAudioSource` records)
and out of the virtual source (what `MicrophoneSource` records through PortAudio's `pulse`/`default`
ALSA devices). The server runs with no configuration file (`-n`) so that nothing on the machine (ALSA
cards, udev, D-Bus, an existing user session) changes its behaviour, and in its own runtime directory so
that it never talks to, or kills, anyone else's server.

Used as a pytest plugin (`pytest_plugins = ("tests.helpers.pulse",)` in conftest): the `pulse_server`
fixture is session-scoped; `PulseServer` can also be started by a test that needs a server it may kill.
`voice_environment` gives the app's voice a server of its own outside pytest (benchmarks, scripts).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.polling import poll_until

_ENV_KEYS = ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH", "PULSE_SERVER", "PULSE_STATE_PATH", "PULSE_COOKIE")


class PulseServer:
    """One private PulseAudio daemon. `start()` skips the calling test when it cannot run here."""

    sink = "assistant_test_sink"
    mic_source = "assistant_test_mic"

    def __init__(self) -> None:
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="assistant-pulse-"))
        runtime = self.runtime_dir / "pulse"
        self.env: dict[str, str] = {
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "PULSE_RUNTIME_PATH": str(runtime),
            "PULSE_STATE_PATH": str(self.runtime_dir / "state"),
            # Explicit server address: clients never fall back to another server (or try to spawn one).
            "PULSE_SERVER": f"unix:{runtime / 'native'}",
            "PULSE_COOKIE": str(self.runtime_dir / "cookie"),
        }
        self.monitor = f"{self.sink}.monitor"
        self._pid: int | None = None
        self._mic_module: str | None = None

    @property
    def log_path(self) -> Path:
        return self.runtime_dir / "pulseaudio.log"

    def _pactl(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["pactl", *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self) -> None:
        for program in ("pulseaudio", "pactl", "paplay"):
            if shutil.which(program) is None:
                pytest.skip(f"`{program}` is not installed (Debian: apt install pulseaudio pulseaudio-utils)")
        command = [
            "pulseaudio",
            "-n",  # no default.pa: only the modules below, nothing from the host
            "--daemonize=yes",
            "--use-pid-file=yes",
            "--exit-idle-time=-1",
            "--system=false",
            "--disallow-exit=no",
            "--log-target=file:" + str(self.log_path),
            "-L",
            "module-native-protocol-unix auth-anonymous=1",
            "-L",
            f"module-null-sink sink_name={self.sink} rate=44100 channels=2",
        ]
        done = subprocess.run(
            command, env={**os.environ, **self.env}, capture_output=True, text=True, timeout=30, check=False
        )
        if done.returncode != 0:
            self._cleanup_dir()
            pytest.skip(f"pulseaudio could not start: {done.stderr.strip() or self._log_tail()}")
        pid_file = self.runtime_dir / "pulse" / "pid"
        try:
            # --daemonize returns once the daemon is up; the pid file and socket may lag by a moment.
            poll_until(
                lambda: pid_file.exists() and bool(self._pactl("info", check=False)),
                10, "pulseaudio answering", interval=0.05,
            )  # fmt: skip
        except AssertionError:
            self.stop()
            pytest.skip(f"pulseaudio did not come up within 10 s: {self._log_tail()}")
        self._pid = int(pid_file.read_text().strip())
        self.add_mic()
        self._pactl("set-default-sink", self.sink)

    def add_mic(self) -> None:
        """Load the virtual microphone (fed by the sink's monitor) and make it the default source."""
        self._mic_module = self._pactl(
            "load-module", "module-virtual-source", f"source_name={self.mic_source}", f"master={self.monitor}"
        ).strip()
        self._pactl("set-default-source", self.mic_source)

    def remove_mic(self) -> None:
        """Unload the virtual microphone, as if it were unplugged."""
        if self._mic_module is not None:
            self._pactl("unload-module", self._mic_module)
            self._mic_module = None

    def _log_tail(self) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-5:])
        except OSError:
            return "no log"

    def play(self, path: str | os.PathLike[str], block: bool = False) -> subprocess.Popen[bytes]:
        """Play an audio file into the null sink with paplay (converted to WAV first if needed)."""
        source = Path(path)
        if source.suffix.lower() != ".wav":
            wav = self.runtime_dir / f"{source.stem}.wav"
            if not wav.exists():
                subprocess.run(
                    ["ffmpeg", "-v", "error", "-y", "-i", str(source), str(wav)], check=True, timeout=60
                )
            source = wav
        # paplay's complaints go to a log file, not a pipe the caller would have to close.
        with open(self.runtime_dir / "paplay.log", "ab") as errors:
            process = subprocess.Popen(
                ["paplay", f"--device={self.sink}", str(source)],
                env={**os.environ, **self.env},
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
        if block:
            process.wait(timeout=120)
        return process

    def stop(self) -> None:
        """Kill the daemon and remove its files. Safe to call twice."""
        pid, self._pid = self._pid, None
        if pid is None:
            pid_file = self.runtime_dir / "pulse" / "pid"
            with contextlib.suppress(OSError, ValueError):
                pid = int(pid_file.read_text().strip())
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            try:
                poll_until(lambda: not _alive(pid), 5, "end of pulseaudio after SIGTERM", interval=0.05)
            except AssertionError:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._cleanup_dir()

    def _cleanup_dir(self) -> None:
        shutil.rmtree(self.runtime_dir, ignore_errors=True)

    @contextlib.contextmanager
    def environment(self) -> Iterator[None]:
        """Point this process (and PortAudio) at this server; restore the previous values after."""
        saved = {key: os.environ.get(key) for key in _ENV_KEYS}
        os.environ.update(self.env)
        _reinitialize_portaudio()
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            _reinitialize_portaudio()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A daemon we killed stays a zombie only if we were its parent; --daemonize makes init its parent.
    return True


def _reinitialize_portaudio() -> None:
    try:
        import sounddevice as sd
    except OSError:
        return
    # WORKAROUND: PortAudio enumerates devices once, in Pa_Initialize; the `pulse` and `default` ALSA
    # devices only appear if a PulseAudio server was reachable then, so re-enumerate after switching.
    sd._terminate()
    sd._initialize()


@pytest.fixture(scope="session")
def pulse_server() -> Iterator[PulseServer]:
    """A running private PulseAudio server, with this process's environment pointed at it."""
    server = PulseServer()
    server.start()
    try:
        with server.environment():
            yield server
    finally:
        server.stop()


@contextlib.contextmanager
def voice_environment() -> Iterator[dict[str, str]]:
    """A private PulseAudio server whose null sink takes the app's voice (its environment variables);
    without PulseAudio, nothing: the app then runs without its voice. For benchmarks and scripts."""
    if shutil.which("pulseaudio") is None:
        print("(pulseaudio is not installed: the app runs without its voice)")
        yield {}
        return
    server = PulseServer()
    server.start()
    try:
        yield dict(server.env)
    finally:
        server.stop()
