"""Model stores of a test's own: models joined from split packages go to a temporary cache, and no user
model folder or hub cache takes part. No pytest here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def isolated_model_stores(root: Path) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        patch.setenv("ASSISTANT_MODELS_DIR", str(root / "user-models"))
        patch.setenv("HF_HOME", str(root / "hf"))
        patch.delenv("HF_HUB_CACHE", raising=False)
        yield
