"""`assistant devices`: list the audio inputs (microphones and system audio) and the cameras, so the user
knows what to pass to `--input` and `--camera`."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from assistant.audio.devices import InputDevice, list_input_devices


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("devices", help="list audio inputs and cameras")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(handler=_devices)


def _cameras() -> tuple[list[dict[str, Any]] | None, str | None]:
    """Cameras as dicts, or (None, reason) when camera listing is not built or fails."""
    try:
        from assistant.vision.frames import list_cameras
    except ImportError:
        return None, "camera listing not available"
    try:
        cameras = list_cameras()
    except Exception as error:  # noqa: BLE001 - a broken camera stack must not hide the audio inputs
        return None, f"camera listing failed: {error}"
    return [
        dataclasses.asdict(camera) if dataclasses.is_dataclass(camera) else vars(camera) for camera in cameras
    ], None


def _audio_line(device: InputDevice) -> str:
    marks = [
        mark for mark, on in (("default", device.is_default), ("system audio", device.is_system_audio)) if on
    ]
    suffix = f"  [{', '.join(marks)}]" if marks else ""
    return (
        f"  {device.spec:>4}  {device.name} ({device.host_api}, {device.channels} ch, "
        f"{device.default_samplerate:g} Hz){suffix}"
    )


def _devices(args: argparse.Namespace) -> int:
    audio = list_input_devices()
    cameras, camera_problem = _cameras()
    if args.json:
        print(
            json.dumps(
                {
                    "audio_inputs": [dict(dataclasses.asdict(device), spec=device.spec) for device in audio],
                    "cameras": cameras,
                    "cameras_note": camera_problem,
                },
                indent=2,
            )
        )
        return 0
    print("Audio inputs (use with --input; also: mic, system, or a file path):")
    if audio:
        for device in audio:
            print(_audio_line(device))
    else:
        print("  none found (no sound card or sound server)")
    print("Cameras:")
    if cameras is None:
        print(f"  {camera_problem}")
    elif not cameras:
        print("  none found")
    else:
        for camera in cameras:
            details = ", ".join(
                f"{key}={value}" for key, value in camera.items() if key not in ("index", "name")
            )
            print(f"  {camera.get('index', '?'):>4}  {camera.get('name', 'camera')} ({details})")
    return 0
