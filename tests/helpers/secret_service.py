"""A private Secret Service for tests: a D-Bus session bus of our own with GNOME Keyring on it, unlocked
with a throw-away password, so the OS keyring code (`keyring`'s SecretService backend over `secretstorage`
and `jeepney`) runs for real without touching the user's keyring.

`private_secret_service(folder)` yields the environment (`DBUS_SESSION_BUS_ADDRESS`, `HOME`,
`XDG_RUNTIME_DIR`, `XDG_DATA_HOME`) a process needs to use it, and stops both daemons (by their own
process ids) at the end. Skips the test when `dbus-daemon` or `gnome-keyring-daemon` is not installed
(`scripts/setup.sh --test` installs them).

Fixtures (this module is a pytest plugin, see `tests/conftest.py`): `secret_service`, that environment,
one service for the whole run; `keyring_here`, this process's `keyring` pointed at it for one test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers.polling import poll_until

KEYRING_PASSWORD = b"throw-away test password"


@contextmanager
def private_secret_service(folder: Path) -> Iterator[dict[str, str]]:
    for program in ("dbus-daemon", "gnome-keyring-daemon", "dbus-send"):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed (scripts/setup.sh --test installs it)")
    home, runtime = folder / "home", folder / "run"
    home.mkdir(parents=True, exist_ok=True)
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    keyring_daemon: subprocess.Popen[bytes] | None = None
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        env = {
            **os.environ,
            "DBUS_SESSION_BUS_ADDRESS": address,
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(runtime),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
        }
        env.pop("ASSISTANT_SERVER_KEY", None)
        keyring_daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert keyring_daemon.stdin is not None
        keyring_daemon.stdin.write(KEYRING_PASSWORD)
        keyring_daemon.stdin.close()

        def secrets_on_the_bus() -> bool:
            reply = subprocess.run(
                [
                    "dbus-send",
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=5,
            )
            return "boolean true" in reply.stdout

        poll_until(secrets_on_the_bus, 15.0, "Secret Service on the private bus", interval=0.1)
        yield env
    finally:
        for process in (keyring_daemon, bus):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
        if bus.stdout is not None:
            bus.stdout.close()


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with private_secret_service(tmp_path_factory.mktemp("secret-service")) as env:
        yield env


@pytest.fixture
def keyring_here(secret_service: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's keyring pointed at the private Secret Service (the backend a Linux desktop picks)."""
    import keyring
    from keyring.backends import SecretService

    for name in ("DBUS_SESSION_BUS_ADDRESS", "HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME"):
        monkeypatch.setenv(name, secret_service[name])
    monkeypatch.delenv("ASSISTANT_SERVER_KEY", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(SecretService.Keyring())
    yield
    keyring.set_keyring(previous)
