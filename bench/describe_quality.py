"""What the fast settings cost in description quality, on a machine that has real scene-model weights.

For every installed scene model (or the folders given with `--model`), at each speed setting the app
can use — 768 px fp32 (the model card's way), 768 px int8, and 384 px int8 (our brief path) — it
describes each photo of a folder with reference captions and prints a caption-overlap score next to the
median latency, so a faster setting that says worse things is visible.

The score is CIDEr-D from `pycocoevalcap` (the COCO captioning metric; `pip install pycocoevalcap`, the
`quality` extra), computed on lower-cased words (its Java tokenizer is not needed for that). Photos:
`tests/data/images` with `captions.json` (three, few and simple: enough to see a setting break, not a
ranking), or any folder with a `captions.json` of `{"file", "references": [...]}` items.

Without any scene model installed (a test machine: no model hub here) it says so and exits 0.

    .venv/bin/python bench/describe_quality.py [--photos DIR] [--model NAME_OR_PATH ...] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant import models
from assistant.errors import AssistantError
from assistant.vision.describe import DescriberOptions, load_model_describer, resolve_model
from assistant.vision.image import Frame, load_image

PHOTOS = Path(__file__).resolve().parents[1] / "tests" / "data" / "images"
SCENE_MODELS = ("florence-2-base", "smolvlm-256m", "blip-base")


@dataclass(frozen=True)
class Setting:
    name: str
    quantize: bool
    brief_image_size: int | None  # None: the model's own resolution


SETTINGS = (
    Setting("768 px fp32", quantize=False, brief_image_size=None),
    Setting("768 px int8", quantize=True, brief_image_size=None),
    Setting("384 px int8 (brief)", quantize=True, brief_image_size=384),
)


def installed_models(asked: list[str]) -> list[tuple[Path, str]]:
    """(folder, name) of each model to score: the ones asked for, else every installed scene model."""
    found = []
    for name in asked or SCENE_MODELS:
        try:
            found.append(resolve_model(name))
        except AssistantError as error:
            if asked:
                raise
            print(f"  {name}: not installed ({str(error).splitlines()[0][:80]})")
    return found


def load_references(folder: Path) -> list[tuple[Frame, list[str]]]:
    items = json.loads((folder / "captions.json").read_text(encoding="utf-8"))
    return [(load_image(folder / item["file"]), list(item["references"])) for item in items]


def words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def cider(candidates: list[str], references: list[list[str]]) -> float:
    from pycocoevalcap.cider.cider import Cider

    gts = {index: [words(r) for r in refs] for index, refs in enumerate(references)}
    res = {index: [words(c)] for index, c in enumerate(candidates)}
    score, _ = Cider().compute_score(gts, res)
    return float(score)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=Path, default=PHOTOS, help="a folder with captions.json")
    parser.add_argument("--model", action="append", default=[], help="a model name or folder (repeatable)")
    parser.add_argument("--runs", type=int, default=1, help="timed passes over the photos")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    print(f"scene models (store: {models.user_models_dir()}):")
    chosen = installed_models(args.model)
    if not chosen:
        print("skipped: no scene model is installed here (`assistant models download florence-2-base`)")
        return 0
    try:
        import pycocoevalcap  # noqa: F401 - checked before the slow part
    except ImportError:
        print("needs pycocoevalcap for the CIDEr score: `.venv/bin/pip install pycocoevalcap`")
        return 2
    photos = load_references(args.photos)
    print(f"\n{len(photos)} photos from {args.photos}, {args.runs} run(s), {args.threads} threads\n")
    print(f"{'model':<20} {'setting':<22} {'CIDEr-D':>8} {'median s':>9}  first caption")
    for path, name in chosen:
        for setting in SETTINGS:
            options = DescriberOptions(
                quantize=setting.quantize, threads=args.threads, cache_images=False,
                brief_image_size=setting.brief_image_size,
            )  # fmt: skip
            describer = load_model_describer(path, name, options)
            captions: list[str] = []
            times: list[float] = []
            for _ in range(max(1, args.runs)):
                captions = []
                for frame, _refs in photos:
                    start = time.perf_counter()
                    captions.append(describer.describe(frame, "brief").text)
                    times.append(time.perf_counter() - start)
            score = cider(captions, [refs for _, refs in photos])
            seconds = statistics.median(times)
            print(f"{name:<20} {setting.name:<22} {score:>8.3f} {seconds:>9.2f}  {captions[0][:60]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
