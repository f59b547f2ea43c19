"""The assistant in a desktop session: one running instance that `assistant send` and a second start reach
(real Unix sockets, the real app in its own process on a private X display), system-wide keys in the
window (a private Xvfb; a key another X client holds is named in the status and the settings), a Wayland
session whose bus has no portal (a private D-Bus: the user is told to bind `assistant send …`), the tray
menu, starting hidden, and the autostart entry the settings add and remove."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import cli
from assistant.desktop.autostart import autostart_path
from assistant.desktop.commands import SENDABLE
from assistant.desktop.instance import InstanceServer, NotRunningError, Reply, Request, forward, send
from assistant.desktop.session import DesktopKind
from assistant.session import Overrides
from tests.helpers.app_process import PROJECT_ROOT, AppProcess
from tests.helpers.desktop import DesktopSession
from tests.helpers.x11 import XDisplay, XUnavailableError, XvfbServer, qt_xcb_problem
from ui.command_table import COMMANDS
from ui.controller import AppController
from ui.settings import Key, Settings
from ui.settings_dialog import SettingsDialog

WAIT_S = 10.0
STARTUP_S = 60.0


@pytest.fixture
def short_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder with a short path: a Unix socket's path must fit in 107 bytes."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="asst-", dir="/tmp"))
    yield folder
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


# -- the instance socket, without the window ---------------------------------------------------------


class Serving:
    def __init__(self, path: Path) -> None:
        server = InstanceServer.claim(path)
        assert server is not None
        self.server = server
        self.requests: list[Request] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=server.serve, args=(self.stop, self._on_request), daemon=True)
        self.thread.start()

    def _on_request(self, request: Request) -> Reply:
        self.requests.append(request)
        return Reply(True, "done")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(WAIT_S)
        self.server.close()


def test_send_reaches_the_one_running_instance_and_a_second_claim_is_refused(short_dir: Path) -> None:
    path = short_dir / "assistant-test.sock"
    serving = Serving(path)
    try:
        assert InstanceServer.claim(path) is None  # a second start: someone runs already
        assert send("describe-window", path) == Reply(True, "done")
        assert forward(Request(start=("app", "--camera", "1")), path).ok
        assert serving.requests == [Request(send="describe-window"), Request(start=("app", "--camera", "1"))]
        refused = forward(Request(send="make-coffee"), path)  # an older `assistant send` could send it
        assert not refused.ok and "describe-window" in refused.message
    finally:
        serving.close()
    with pytest.raises(NotRunningError, match="not running"):
        send("describe-window", path)


def test_a_dead_instance_leaves_nothing_in_the_way(short_dir: Path) -> None:
    path = short_dir / "assistant-test.sock"
    path.write_bytes(b"")  # the socket file of an instance that crashed
    serving = Serving(path)
    try:
        assert send("stop", path).ok
    finally:
        serving.close()


def test_send_list_names_every_command_and_each_is_in_the_command_table(capsys: Any) -> None:
    assert cli.main(["send", "--list"]) == 0
    printed = capsys.readouterr().out
    ids = {item.id for item in COMMANDS}
    for command in SENDABLE:
        assert command.name in printed
        assert command.command_id in ids or command.command_id in ("show_window", "hide_window")
    for required in ("describe-window", "read-window", "describe-screen", "describe-clipboard", "stop",
                     "repeat", "captions", "overlay"):  # fmt: skip
        assert f"\n{required} " in "\n" + printed


# -- the real app: assistant send and a second start --------------------------------------------------


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    server = XvfbServer()
    try:
        name = server.start()
    except XUnavailableError as error:
        pytest.fail(f"{error} (scripts/setup.sh --test installs it)")
    problem = qt_xcb_problem(name)
    if problem is not None:
        server.stop()
        pytest.fail(f"Qt cannot open a window on Xvfb: {problem}")
    yield name
    server.stop()


def _assistant(env: dict[str, str], *args: str) -> Any:
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip


def test_assistant_send_runs_the_command_in_the_running_window_and_a_second_start_forwards(
    display: str, tmp_path: Path, short_dir: Path
) -> None:
    session = DesktopSession(display, short_dir).start_dbus()
    env = session.environment()
    (tmp_path / "settings.ini").write_text("[speech]\noutput=off\n")
    app = AppProcess(display, tmp_path, ["--camera", "", "--no-captions", "--settings",
                                         str(tmp_path / "settings.ini")], env=env)  # fmt: skip
    try:
        app.start()
        app.wait_for(lambda e: e["event"] == "exposed", STARTUP_S, "the window")
        sent = _assistant(env, "send", "describe-screen")
        assert sent.returncode == 0, sent.stderr
        described = app.wait_for(lambda e: e["event"] == "description", WAIT_S, "the screen's description")
        assert "quick look" in described["text"] or "scene" in described["text"].lower()
        commands = [e for e in app.events() if e["event"] == "command"]
        assert commands and commands[-1]["id"] == "describe_screen" and commands[-1]["via"] == "send"
        assert _assistant(env, "send", "describe-pointer").returncode == 0
        app.wait_for(
            lambda e: e["event"] == "description" and e["text"].startswith("Around the mouse pointer: "),
            WAIT_S, "the description around the pointer",
        )  # fmt: skip

        started = time.monotonic()
        second = _assistant(env, "app", "--camera", "")
        assert second.returncode == 0 and "already running" in second.stdout, second.stderr
        assert time.monotonic() - started < 10
        app.wait_for_status("started again", WAIT_S)
        with XDisplay(display) as x:
            assert [title for _, title, _ in x.windows() if title == "Assistant"] == ["Assistant"]

        assert _assistant(env, "send", "quit").returncode == 0
        assert app.process is not None
        assert app.process.wait(WAIT_S) == 0
        gone = _assistant(env, "send", "stop")
        assert gone.returncode == 2 and "not running" in gone.stderr
    finally:
        app.kill()
        session.stop()


# -- system-wide keys and the desktop in the window ---------------------------------------------------


@pytest.fixture
def controller(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppController]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    settings = Settings(tmp_path / "settings.ini")
    settings.set(Key.VOICE_OUTPUT, "off")
    settings.set(Key.CAMERA, "")
    app = AppController(settings, Overrides(captions_at_start=False))
    app.start(load_models=False)
    yield app
    app.shutdown()
    app.window.close()


def _statuses(app: AppController) -> list[str]:
    return [app.window.status_list.item(row).text() for row in range(app.window.status_list.count())]


def test_system_wide_keys_run_their_command_and_a_key_another_program_holds_is_named(
    qtbot: Any, display: str, controller: AppController, monkeypatch: pytest.MonkeyPatch
) -> None:
    from Xlib import XK, X

    from assistant.desktop.x11 import open_display

    other = open_display(display)  # another program holds Ctrl+Alt+Shift+B
    keycode = other.keysym_to_keycode(XK.string_to_keysym("b"))
    other.screen().root.grab_key(keycode, X.ControlMask | X.Mod1Mask | X.ShiftMask, True,
                                 X.GrabModeAsync, X.GrabModeAsync)  # fmt: skip
    other.sync()
    ran: list[tuple[str, str]] = []
    controller.actions.ran.connect(lambda command_id, via: ran.append((command_id, via)))
    monkeypatch.setenv("DISPLAY", display)
    keys = controller.shell.global_keys
    try:
        keys.start(DesktopKind.X11)
        qtbot.waitUntil(
            lambda: " work from any program" in controller.actions.global_state, timeout=WAIT_S * 1000
        )
        refused = [line for line in _statuses(controller) if "does not work" in line]
        assert len(refused) == 1
        assert "Ctrl+Alt+Shift+B" in refused[0] and "Describe the clipboard image" in refused[0]
        assert "another program already uses it" in refused[0]
        dialog = SettingsDialog(controller.settings, controller.actions)
        qtbot.addWidget(dialog)
        rows = [
            dialog.shortcuts.commands.item(row).text() for row in range(dialog.shortcuts.commands.count())
        ]
        (clipboard,) = [row for row in rows if row.startswith("Describe the clipboard image")]
        assert (
            "from any program: Ctrl+Alt+Shift+B (does not work: another program already uses it)" in clipboard
        )
        assert "9 of 10 work" in dialog.shortcuts.global_state.text()

        with XDisplay(display) as x:
            x.press("Ctrl+Alt+Shift+A")
        qtbot.waitUntil(lambda: ("repeat_last", "system-wide key") in ran, timeout=WAIT_S * 1000)

        # Moved to a free key in the shortcut editor, it works.
        dialog.shortcuts.commands.setCurrentRow(rows.index(clipboard))
        dialog.shortcuts.which.setCurrentIndex(1)
        from PySide6.QtGui import QKeySequence

        dialog.shortcuts.key_edit.setKeySequence(QKeySequence("Ctrl+Alt+Shift+J"))
        dialog.shortcuts.assign.click()
        qtbot.waitUntil(lambda: "10 of 10 work" in controller.actions.global_state, timeout=WAIT_S * 1000)
        with XDisplay(display) as x:
            x.press("Ctrl+Alt+Shift+J")
        qtbot.waitUntil(lambda: ("describe_clipboard", "system-wide key") in ran, timeout=WAIT_S * 1000)

        # While a key is being typed into the editor, the keys are let go: the key lands in the field.
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.activateWindow()
        dialog.tabs.setCurrentWidget(dialog.shortcuts)
        dialog.shortcuts.key_edit.setFocus()
        qtbot.waitUntil(
            lambda: "off while the key field" in controller.actions.global_state, timeout=WAIT_S * 1000
        )
        ran.clear()
        with XDisplay(display) as x:
            x.press("Ctrl+Alt+Shift+A")
        qtbot.wait(300)
        assert ran == []
        dialog.shortcuts.commands.setFocus()
        qtbot.waitUntil(lambda: "10 of 10 work" in controller.actions.global_state, timeout=WAIT_S * 1000)
    finally:
        other.close()


def test_wayland_without_the_portal_says_to_bind_assistant_send(
    qtbot: Any, controller: AppController, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = DesktopSession(":0", short_dir).start_dbus()  # a bus with no portal on it
    try:
        for name, value in session.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
        monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-test")
        controller.shell.global_keys.start(DesktopKind.WAYLAND)
        hint = [line for line in _statuses(controller) if "assistant send describe-window" in line]
        assert hint and "no GlobalShortcuts portal" in hint[0]
        dialog = SettingsDialog(controller.settings, controller.actions)
        qtbot.addWidget(dialog)
        assert "bind `assistant send describe-window`" in dialog.shortcuts.global_state.text()

        # Nor can it see the screen: the active window is refused in words, not with a black picture.
        with qtbot.waitSignal(controller.description_ready, timeout=WAIT_S * 1000) as said:
            controller.actions.trigger("read_window", "send")
        assert "offers no screenshot portal" in said.args[0]
    finally:
        session.stop()


def test_the_tray_menu_names_its_commands_and_the_window(controller: AppController) -> None:
    menu = controller.shell.tray.menu
    assert menu.accessibleName() == "Assistant"
    titles = [action.text().replace("&", "") for action in menu.actions() if not action.isSeparator()]
    for wanted in ("Describe the active window", "Read the active window's text", "Stop speech",
                   "Captions on or off", "Hide the window", "Quit"):  # fmt: skip
        assert wanted in titles
    assert all(title.strip() for title in titles)


def test_start_hidden_and_start_at_login_follow_the_settings(
    qtbot: Any, controller: AppController, tmp_path: Path
) -> None:
    entry = autostart_path()
    assert entry == tmp_path / "config" / "autostart" / "assistant.desktop" and not entry.exists()
    dialog = SettingsDialog(controller.settings, controller.actions)
    qtbot.addWidget(dialog)
    controller.settings.set(Key.START_AT_LOGIN, True)
    controller.settings.set(Key.START_HIDDEN, True)
    controller._on_settings_changed()
    text = entry.read_text()
    assert "Exec=" in text and "assistant" in text.split("Exec=")[1].splitlines()[0]
    assert "Name=Assistant" in text and "X-GNOME-Autostart-enabled=true" in text
    controller.window.hide()
    controller.shell.show_at_start()  # no tray here (offscreen): minimised, never lost
    assert controller.window.isMinimized()
    controller.settings.set(Key.START_AT_LOGIN, False)
    controller._on_settings_changed()
    assert not entry.exists()


def test_holding_the_system_wide_ask_key_listens_until_it_is_let_go(
    qtbot: Any, display: str, controller: AppController, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(controller.vision, "start_voice_question", lambda: calls.append("start"))
    monkeypatch.setattr(controller.vision, "finish_voice_question", lambda: calls.append("finish"))
    monkeypatch.setenv("DISPLAY", display)
    controller.shell.global_keys.start(DesktopKind.X11)
    qtbot.waitUntil(
        lambda: " work from any program" in controller.actions.global_state, timeout=WAIT_S * 1000
    )
    with XDisplay(display) as x:
        x11, xtst, handle = x._x11, x._xtst, x._handle
        names = (b"Control_L", b"Alt_L", b"Shift_L", b"v")
        codes = [x11.XKeysymToKeycode(handle, x11.XStringToKeysym(name)) for name in names]
        for code in codes:
            xtst.XTestFakeKeyEvent(handle, code, 1, 0)
        x11.XSync(handle, 0)
        qtbot.waitUntil(lambda: calls == ["start"], timeout=WAIT_S * 1000)
        qtbot.wait(300)  # held: nothing more happens
        assert calls == ["start"]
        for code in reversed(codes):
            xtst.XTestFakeKeyEvent(handle, code, 0, 0)
        x11.XSync(handle, 0)
    qtbot.waitUntil(lambda: calls == ["start", "finish"], timeout=WAIT_S * 1000)


def test_on_wayland_the_portal_binds_the_keys_and_gives_the_screen(
    qtbot: Any, controller: AppController, short_dir: Path, monkeypatch: pytest.MonkeyPatch, test_data: Path
) -> None:
    from tests.fakes.portal import FakePortal

    session = DesktopSession(":0", short_dir).start_dbus()
    portal = FakePortal(
        session.env["DBUS_SESSION_BUS_ADDRESS"],
        screenshot=test_data / "images" / "skimage_coffee.png",
        refuse=("toggle_overlay",),  # the user unticked it in the desktop's dialog
    ).start()
    try:
        for name, value in session.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
        ran: list[tuple[str, str]] = []
        controller.actions.ran.connect(lambda command_id, via: ran.append((command_id, via)))
        controller.shell.global_keys.start(DesktopKind.WAYLAND)
        qtbot.waitUntil(
            lambda: "work on this desktop" in controller.actions.global_state, timeout=WAIT_S * 1000
        )
        assert "9 of 10 work" in controller.actions.global_state
        assert portal.bound["describe_window"] == "CTRL+ALT+SHIFT+w"
        assert "the desktop did not bind it" in controller.actions.global_refused["toggle_overlay"]

        with qtbot.waitSignal(controller.description_ready, timeout=WAIT_S * 1000) as said:
            portal.activate("describe_window")
        assert ("describe_window", "system-wide key") in ran
        assert said.args[0].startswith("The whole screen (Wayland does not say which window): ")
        assert "quick look" in said.args[0]
    finally:
        portal.stop()
        session.stop()
