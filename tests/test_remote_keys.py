"""The model server's API key: kept in a real Secret Service (GNOME Keyring on a private D-Bus session, the
`secret_service` fixture of `tests/helpers/secret_service.py`), sent to the server, and nowhere else: not
in logs, errors or `repr`."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.remote.describer import RemoteDescriber, ServerSettings
from assistant.remote.errors import ServerRefusedError
from assistant.session import Config, Session
from tests.helpers.fault_proxy import Fault, FaultProxy

KEY = "sk-test-4f9a1c0e7b2d"
HOST = "gpu-box.lan:8000"

pytestmark = pytest.mark.timeout(120)


def _python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_key_is_kept_in_the_secret_service_and_read_back_by_another_process(
    secret_service: dict[str, str],
) -> None:
    _python(
        "import keyring; from assistant.remote.keys import store_key; "
        f"store_key({HOST!r}, {KEY!r}); print(type(keyring.get_keyring()).__module__)",
        secret_service,
    )
    # A new process, choosing its keyring backend by itself, finds the key in the daemon.
    found = _python(
        "import keyring; from assistant.remote.keys import server_key; "
        f"print(type(keyring.get_keyring()).__module__, server_key({HOST!r}))",
        secret_service,
    )
    assert found == f"keyring.backends.SecretService {KEY}"
    # The environment's key wins over the keyring's.
    assert (
        _python(
            f"from assistant.remote.keys import server_key; print(server_key({HOST!r}))",
            {**secret_service, "ASSISTANT_SERVER_KEY": "sk-from-env"},
        )
        == "sk-from-env"
    )
    # GNOME Keyring keeps it encrypted: the key is in no file under the private home.
    home = Path(secret_service["HOME"])
    assert not [file for file in home.rglob("*") if file.is_file() and KEY.encode() in file.read_bytes()]
    _python(f"from assistant.remote.keys import store_key; store_key({HOST!r}, '')", secret_service)
    assert (
        _python(f"from assistant.remote.keys import stored_key; print(stored_key({HOST!r}))", secret_service)
        == "None"
    )


def test_the_keyring_key_reaches_the_server_and_no_log_error_or_repr(
    keyring_here: None,
    fault_proxy: FaultProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from assistant.remote.keys import store_key

    host = fault_proxy.url.removeprefix("http://")
    store_key(host, KEY)
    caplog.set_level(logging.DEBUG)
    frame = np.full((240, 320, 3), 128, np.uint8)
    fault_proxy.fault = Fault(require_key=KEY)
    session = Session(Config(server_url=fault_proxy.url))
    answer = session.ask(frame, "What is this?")
    assert answer.remote, answer.notice
    assert fault_proxy.seen_headers[-1]["authorization"] == f"Bearer {KEY}"

    fault_proxy.fault = Fault(require_key="a-different-key")
    refused = session.ask(frame, "What is this?")
    assert "HTTP 401" in refused.notice and not refused.remote
    server = session.server()
    texts = [caplog.text, refused.notice, refused.text, repr(server), repr(session.config), str(answer)]
    assert not [text for text in texts if KEY in text]
    store_key(host, "")


def test_an_error_that_echoes_the_key_is_scrubbed(fault_proxy: FaultProxy) -> None:
    # A gateway that puts the key it got into its error message (some do): the user never hears it.
    fault_proxy.fault = Fault(status=500, message=f"bad key {KEY}")
    describer = RemoteDescriber(ServerSettings(url=fault_proxy.url, model="m"), api_key=KEY)
    with pytest.raises(ServerRefusedError) as raised:
        describer.ask(np.zeros((64, 64, 3), np.uint8), "What is this?")
    assert "HTTP 500" in str(raised.value) and KEY not in str(raised.value) and "[key]" in str(raised.value)
