"""A private speech-dispatcher (Debian's `speech-dispatcher`, the service Orca speaks through) that writes
what it is asked to say to a file instead of a sound card.

Its one output module is speech-dispatcher's own generic module running `printf` for each piece of text
(and a short sleep, as a voice takes time), so a test reads `said()` to hear what a screen-reader user
would have heard, and `log()` for the protocol side (cancels). Audio goes to ALSA's null device.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from tests.helpers.polling import poll_until

MODULES = Path("/usr/lib/speech-dispatcher-modules")
SPEAKING_SECONDS = 0.4
"""How long the stand-in voice takes per piece of text, so that a stop has something to cut."""


def available() -> str | None:
    """Why a private speech-dispatcher cannot run here, or None."""
    if shutil.which("speech-dispatcher") is None:
        return "speech-dispatcher is not installed (Debian package speech-dispatcher)"
    if not (MODULES / "sd_generic").exists():
        return f"speech-dispatcher's generic module is missing from {MODULES}"
    return None


class SpeechDispatcherServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "speechd.sock"
        self.said_file = root / "said.txt"
        self.times_file = root / "said-times.txt"  # when each piece reached the voice (time.time())
        self.log_dir = root / "log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """The value for `SPEECHD_ADDRESS` that points clients here."""
        return f"unix_socket:{self.socket}"

    def start(self) -> SpeechDispatcherServer:
        config = self.root / "conf"
        (config / "modules").mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        (config / "speechd.conf").write_text(
            f'LogLevel 4\nLogDir "{self.log_dir}"\nAddModule "said" "sd_generic" "said.conf"\n'
            'DefaultModule said\nDefaultLanguage "en"\nAudioOutputMethod "alsa"\nAudioALSADevice "null"\n'
        )
        synth = (
            f"date +%s.%N >> {self.times_file}; printf '%s\\\\n' \\'$DATA\\' >> {self.said_file}; "
            f"sleep {SPEAKING_SECONDS}"
        )
        (config / "modules" / "said.conf").write_text(
            f'GenericExecuteSynth "{synth}"\nGenericCmdDependency "printf"\n'
            'AddVoice "en" "MALE1" "default"\nGenericLanguage "en" "en" "utf-8"\n'
        )
        self._process = subprocess.Popen(
            [
                "speech-dispatcher",
                "-s",
                "-t",
                "0",
                "-C",
                str(config),
                "-S",
                str(self.socket),
                "-m",
                str(MODULES),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        poll_until(self.socket.exists, 10, "speech-dispatcher socket")
        return self

    def said(self) -> list[str]:
        """Every piece of text spoken so far, in order."""
        return self.said_file.read_text().splitlines() if self.said_file.exists() else []

    def said_at(self) -> list[tuple[float, str]]:
        """Every piece of text spoken so far with the wall time it reached the voice (for benchmarks)."""
        times = self.times_file.read_text().split() if self.times_file.exists() else []
        return [(float(at), text) for at, text in zip(times, self.said(), strict=False)]

    def log(self) -> str:
        path = self.log_dir / "speech-dispatcher.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self) -> None:
        """Die at once, as a crashed service would."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(5)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
        self._process = None
