"""Command-line options that several commands share, defined once."""

from __future__ import annotations

import argparse
import os

from assistant.speech.engines import DEFAULT_ENGINE, DEFAULT_MODEL, ENGINES


def add_recognition_options(parser: argparse.ArgumentParser, *, with_defaults: bool = True) -> None:
    """--engine, --model, --language, --translate, --vocabulary, --threads.

    `with_defaults=False` leaves unset options as None, so that the window's stored settings decide."""

    def default(value: object) -> object:
        return value if with_defaults else None

    parser.add_argument("--engine", choices=ENGINES, default=default(DEFAULT_ENGINE), help="speech engine")
    parser.add_argument(
        "--model",
        default=default(DEFAULT_MODEL),
        help=f"speech model name (`assistant models list`) or path (default {DEFAULT_MODEL})",
    )
    parser.add_argument(
        "--language",
        default=default("en"),
        help="spoken language code, or `auto` to detect it (default en)",
    )
    parser.add_argument(
        "--translate",
        action="store_true",
        default=default(False),
        help="translate to English (multilingual models)",
    )
    parser.add_argument(
        "--vocabulary", default=default(""), help="names and terms to prefer, e.g. 'Kubernetes, Anaïs'"
    )
    parser.add_argument(
        "--threads",
        type=thread_count,
        default=default(2),
        help=f"CPU threads for recognition, 1 to {max_threads()} (default 2)",
    )


def max_threads() -> int:
    """The most recognition threads worth asking for: twice the cores; more only slows every thread."""
    return 2 * (os.cpu_count() or 1)


def thread_count(text: str) -> int:
    """An argparse type for --threads: a whole number from 1 to `max_threads()`, or one clear message."""
    limit = max_threads()
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= limit:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a thread count: give a whole number from 1 to {limit}"
        )
    return value
