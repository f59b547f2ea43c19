#!/usr/bin/python3
"""What a screen reader sees of the running assistant, through Debian's own AT-SPI client (pyatspi).

Run by the *system* Python (`/usr/bin/python3`, which has python3-pyatspi), in the app's X display and
session bus, by `tests/test_atspi.py`:

    /usr/bin/python3 tests/helpers/atspi_check.py --pid PID --out result.json [--caption WORDS]

It presses keys as a user would (xdotool, XTEST) and listens to AT-SPI events, then writes one JSON
object: the accessible trees of the main window, the settings dialog and the caption overlay (role, name,
states), the object that had the focus after each Tab, every `object:announcement`, and every
text-changed event of the captions view with the view's text when the run began. It judges nothing; the
test does. Steps run from the GLib loop, so events are delivered between them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import pyatspi
from gi.repository import GLib

INTERACTIVE = {
    "push button", "toggle button", "check box", "radio button", "combo box", "text", "entry",
    "password text", "spin button", "slider", "list", "list box", "menu", "menu item", "menu bar",
    "page tab", "page tab list", "table", "tree", "tree table", "link", "check menu item",
    "radio menu item", "scroll bar", "popup menu",
}  # fmt: skip
STATES = {
    pyatspi.STATE_FOCUSABLE: "focusable", pyatspi.STATE_FOCUSED: "focused", pyatspi.STATE_SHOWING: "showing",
    pyatspi.STATE_VISIBLE: "visible", pyatspi.STATE_ENABLED: "enabled", pyatspi.STATE_EDITABLE: "editable",
}  # fmt: skip
CAPTIONS_NAME = "Live captions"


def log(*parts: object) -> None:
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


def find_app(pid: int):
    for app in pyatspi.Registry.getDesktop(0):
        try:
            if app is not None and app.get_process_id() == pid:
                return app
        except Exception:  # noqa: BLE001 - an application that went away while we looked
            continue
    return None


def label(acc) -> str:
    try:
        return f"{acc.getRoleName()} {acc.name!r}"
    except Exception:  # noqa: BLE001 - an AT-SPI object can vanish or fail in any way
        return "<gone>"


def walk(acc, depth: int = 0, out: list | None = None) -> list:
    out = [] if out is None else out
    try:
        states = acc.getState()
        node = {
            "depth": depth,
            "role": acc.getRoleName(),
            "name": acc.name or "",
            "description": acc.description or "",
            "states": [name for state, name in STATES.items() if states.contains(state)],
        }
    except Exception:  # noqa: BLE001 - an AT-SPI object can vanish or fail in any way
        return out
    out.append(node)
    for index in range(min(acc.childCount, 500)):
        child = acc.getChildAtIndex(index)
        if child is not None:
            walk(child, depth + 1, out)
    return out


def xdo(*args: str) -> str:
    done = subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=20)
    return done.stdout.strip()


class Check:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.result: dict = {"trees": {}, "tab_focus": [], "announcements": [], "caption_events": [],
                             "caption_text_at_start": "", "steps": []}  # fmt: skip
        self.last_focus = ""
        self.steps: list = []
        self.app = None
        self.window = ""

    # -- events --

    def on_event(self, event) -> None:
        try:
            source = event.source
            try:
                if source.get_process_id() != self.args.pid:
                    return
            except Exception:  # noqa: BLE001 - an AT-SPI object can vanish or fail in any way
                return
            kind = event.type
            if kind.startswith("focus") or (
                kind.startswith("object:state-changed:focused") and event.detail1
            ):
                self.last_focus = label(source)
            elif kind.startswith("object:announcement"):
                self.result["announcements"].append({"t": time.time(), "text": str(event.any_data),
                                                     "politeness": event.detail1})  # fmt: skip
            elif kind.startswith("object:text-changed") and source.name == CAPTIONS_NAME:
                self.result["caption_events"].append({
                    "type": "insert" if ":insert" in kind else "delete",
                    "offset": event.detail1, "length": event.detail2, "text": str(event.any_data),
                })  # fmt: skip
            elif kind.startswith("object:text-caret-moved") and source.name == CAPTIONS_NAME:
                self.result["caption_events"].append({"type": "caret", "offset": event.detail1})
        except Exception as error:  # noqa: BLE001 - the listener must never die
            log("listener:", repr(error))

    # -- steps --

    def add(self, delay: float, step) -> None:
        self.steps.append((delay, step))

    def next_step(self) -> bool:
        if not self.steps:
            pyatspi.Registry.stop()
            return False
        delay, step = self.steps.pop(0)

        def run() -> bool:
            try:
                again = step()
            except Exception as error:  # noqa: BLE001 - an AT-SPI object can vanish or fail in any way
                log("step failed:", repr(error))
                self.result["steps"].append(f"failed: {error!r}")
                again = False
            if again:  # a waiting step asks to be run again
                self.steps.insert(0, (0.2, step))
            self.next_step()
            return False

        GLib.timeout_add(int(delay * 1000), run)
        return False

    def focus_window(self) -> None:
        xdo("windowactivate", "--sync", self.window)
        xdo("windowfocus", "--sync", self.window)

    def key(self, chord: str):
        def press() -> None:
            xdo("key", "--clearmodifiers", chord)
            self.result["steps"].append(f"key {chord}")

        return press

    def snapshot(self, tag: str, name: str):
        def take() -> None:
            app = find_app(self.args.pid)
            app.clear_cache()
            nodes = []
            for index in range(app.childCount):
                window = app.getChildAtIndex(index)
                if window is not None and window.name == name:
                    nodes += walk(window)
            self.result["trees"][tag] = nodes
            log(f"tree {tag}: {len(nodes)} objects")

        return take

    def wait_for_announcement(self, words: str, seconds: float):
        deadline: list[float] = []  # set when the wait begins

        def wait() -> bool:
            if not deadline:
                deadline.append(time.monotonic() + seconds)
            found = any(words.lower() in a["text"].lower() for a in self.result["announcements"])
            if found or time.monotonic() > deadline[0]:
                self.result["steps"].append(f"announcement {words!r}: {'heard' if found else 'not heard'}")
                return False
            return True

        return wait

    def record_focus(self) -> None:
        self.result["tab_focus"].append(self.last_focus)

    def plan(self) -> None:
        self.add(0.2, self.focus_window)
        self.add(1.0, self.snapshot("main", "Assistant"))
        self.add(0.1, self.record_focus)
        for _ in range(self.args.tabs):
            self.add(0.1, self.key("Tab"))
            self.add(0.6, self.record_focus)
        self.add(0.1, self.key("ctrl+shift+d"))
        self.add(0.2, self.wait_for_announcement(self.args.description, 20))
        if self.args.caption:
            self.add(0.1, self.key("ctrl+shift+l"))  # captions on, now that every event is heard
            self.add(0.2, self.wait_for_announcement(self.args.caption, self.args.caption_seconds))
        self.add(0.1, self.focus_window)
        self.add(0.1, self.key("ctrl+comma"))
        self.add(2.0, self.snapshot("settings", "Settings"))
        self.add(0.1, self.key("Escape"))
        self.add(1.0, self.focus_window)
        self.add(0.1, self.key("ctrl+shift+o"))
        self.add(1.5, self.snapshot("overlay", "Caption overlay"))
        self.add(0.1, self.key("ctrl+shift+o"))
        self.add(0.5, lambda: None)

    def run(self) -> int:
        deadline = time.monotonic() + 60
        while self.app is None and time.monotonic() < deadline:
            self.app = find_app(self.args.pid)
            if self.app is None:
                time.sleep(0.5)
        if self.app is None:
            log("the app never appeared on the AT-SPI bus")
            return 1
        windows = xdo("search", "--pid", str(self.args.pid), "--name", "^Assistant$").split()
        if not windows:
            log("no window titled Assistant")
            return 1
        self.window = windows[0]
        self.result["caption_text_at_start"] = self.caption_text()
        for kind in ("object:announcement", "object:text-changed", "object:text-caret-moved", "focus:",
                     "object:state-changed:focused"):  # fmt: skip
            pyatspi.Registry.registerEventListener(self.on_event, kind)
        self.plan()
        self.next_step()
        pyatspi.Registry.start()
        with open(self.args.out, "w", encoding="utf-8") as out:
            json.dump(self.result, out, indent=1)
        return 0

    def caption_text(self) -> str:
        for node in self._find(self.app, CAPTIONS_NAME):
            text = node.queryText()
            return text.getText(0, -1)
        return ""

    def _find(self, acc, name: str):
        if acc is None:
            return
        try:
            if acc.name == name and acc.getRoleName() == "text":
                yield acc
                return
            for index in range(min(acc.childCount, 500)):
                yield from self._find(acc.getChildAtIndex(index), name)
        except Exception:  # noqa: BLE001 - an AT-SPI object can vanish or fail in any way
            return


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--tabs", type=int, default=7)
    parser.add_argument("--description", default="quick look", help="words the description announces")
    parser.add_argument(
        "--caption", default="", help="start captions, and wait for a sentence with these words"
    )
    parser.add_argument("--caption-seconds", type=float, default=60.0)
    return Check(parser.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
