"""The model server's API key: `ASSISTANT_SERVER_KEY`, else the OS keyring (Secret Service on Linux,
the Keychain on macOS, the Credential Locker on Windows), one entry per server host.

The key is never written to the settings file, a log line or an error message. It is read only when a
request is about to be made, so with no server set nothing here runs (a keyring lookup talks to D-Bus).
"""

from __future__ import annotations

import logging
import os

from assistant.errors import AssistantError

log = logging.getLogger(__name__)

SERVICE = "assistant model server"
"""The keyring service name; the entry's user name is the server's host ("gpu-box:8000")."""
ENV_KEY = "ASSISTANT_SERVER_KEY"


class KeyStoreError(AssistantError):
    """The OS keyring is missing, locked or refused to store the key."""


def server_key(host: str) -> str | None:
    """The key to send to `host`: the environment's, else the keyring's, else None (no key)."""
    from_env = os.environ.get(ENV_KEY, "").strip()
    if from_env:
        return from_env
    return stored_key(host)


def stored_key(host: str) -> str | None:
    """The keyring's key for `host`; None when there is none or no keyring to ask."""
    try:
        import keyring
    except ImportError:
        return None
    try:
        return keyring.get_password(SERVICE, host) or None
    # Backends raise their own errors besides KeyringError (secretstorage's "no D-Bus session", jeepney's
    # connection errors): any of them means there is no key to be had.
    except Exception as error:  # noqa: BLE001 - see above
        log.info("keys: no keyring to read the server key from (%s)", type(error).__name__)
        return None


def store_key(host: str, key: str) -> None:
    """Keep `key` for `host` in the keyring ("" deletes it). Raises `KeyStoreError` saying what to do."""
    if not key:
        delete_key(host)
        return
    try:
        import keyring
    except ImportError as error:
        raise KeyStoreError(
            f"Cannot store the key: the keyring package is missing. Set {ENV_KEY} instead."
        ) from error
    try:
        keyring.set_password(SERVICE, host, key)
    except Exception as error:  # noqa: BLE001 - backends raise their own errors besides KeyringError
        raise KeyStoreError(
            f"Cannot store the key in the system keyring ({type(error).__name__}). Unlock or install a "
            f"keyring (GNOME Keyring, KWallet), or set {ENV_KEY} instead."
        ) from None
    log.info("keys: stored the server key for %s in the keyring", host)


def delete_key(host: str) -> None:
    """Forget the key for `host`; nothing happens when there is none."""
    try:
        import keyring
        from keyring.errors import PasswordDeleteError
    except ImportError:
        return
    try:
        keyring.delete_password(SERVICE, host)
    except PasswordDeleteError:
        return
    except Exception as error:  # noqa: BLE001 - backends raise their own errors besides KeyringError
        raise KeyStoreError(
            f"Cannot remove the key from the system keyring ({type(error).__name__})."
        ) from None
