"""Shared fixtures: where the read-only evaluation data lives, and offline-only model access."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ("tests.pulse",)

# Qt must never look for a real display in tests; offscreen needs no system packages.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No test may reach a model hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _find_shared() -> Path | None:
    configured = os.environ.get("ASSISTANT_SHARED_DIR")
    candidate = Path(configured) if configured else PROJECT_ROOT.parent / "shared"
    return candidate if (candidate / "evaldata").is_dir() else None


SHARED_DIR = _find_shared()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's read-only evaluation data (`../shared` or $ASSISTANT_SHARED_DIR)."""
    if SHARED_DIR is None:
        pytest.skip("../shared (or $ASSISTANT_SHARED_DIR) is absent: no evaluation data on this machine")
    return SHARED_DIR
