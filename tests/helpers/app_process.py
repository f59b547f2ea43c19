"""The real app in its own process on an X display, followed through its trace.

`AppProcess` runs `python -m assistant app ...` with the trace (`ASSISTANT_TRACE`, see `ui/diagnostics.py`)
switched on, follows the trace as it grows, stops the app with SIGTERM as a session manager would, and
reads its peak memory from /proc. Used by `tests/test_app_xvfb.py`, `bench/ui_responsiveness.py` and
`scripts/screenshot.py`; no pytest.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.helpers.polling import poll_until

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class AppProcess:
    """The app in its own process on `display`, with its trace in `workdir/trace.jsonl`."""

    def __init__(
        self,
        display: str,
        workdir: Path,
        app_args: Sequence[str],
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.display = display
        self.workdir = workdir
        self.trace_path = workdir / "trace.jsonl"
        self.log_path = workdir / "app.log"
        self.app_args = list(app_args)
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.started_wall = 0.0
        self._events: list[dict[str, Any]] = []
        self._read_offset = 0

    def start(self) -> None:
        env = {**os.environ, **self.extra_env}
        env.update(DISPLAY=self.display, QT_QPA_PLATFORM="xcb", ASSISTANT_TRACE=str(self.trace_path))
        with open(self.log_path, "ab") as log:
            self.started_wall = time.time()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "assistant", "-v", "app", *self.app_args],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def events(self) -> list[dict[str, Any]]:
        """Every trace event so far (complete lines only; the app may be writing the next one)."""
        if self.trace_path.exists():
            with self.trace_path.open("rb") as trace:
                trace.seek(self._read_offset)
                data = trace.read()
            complete = data[: data.rfind(b"\n") + 1]
            self._read_offset += len(complete)
            self._events.extend(json.loads(line) for line in complete.splitlines() if line.strip())
        return list(self._events)

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str = "an event"
    ) -> dict[str, Any]:
        """The first trace event matching `predicate`; fails with the app's log tail."""

        def check() -> dict[str, Any] | None:
            found = next((event for event in self.events() if predicate(event)), None)
            if found is None and self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"the app exited ({self.process.returncode}) before {what}")
            return found

        try:
            result: dict[str, Any] = poll_until(check, timeout, what)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.log_tail()}") from None
        return result

    def wait_for_status(self, fragment: str, timeout: float) -> dict[str, Any]:
        return self.wait_for(
            lambda e: e["event"] == "status" and fragment in e["text"], timeout, f"status '{fragment}'"
        )

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def peak_rss_mb(self) -> float | None:
        """The app's peak resident memory so far (VmHWM), or None where /proc cannot tell."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    def terminate(self, timeout: float = 10.0) -> tuple[int, float]:
        """SIGTERM, as a session manager sends it; returns (exit code, seconds to exit), or (exit code,
        0.0) when the app had already exited."""
        assert self.process is not None
        if self.process.poll() is not None:
            return self.process.returncode, 0.0
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
