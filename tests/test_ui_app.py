"""The desktop shell, offscreen: shortcuts, the overlay, settings, accessible names, announcements and
a fast shutdown. Real widgets, real workers and real models where they exist offline."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QColor, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QKeySequenceEdit, QWidget

import ui.announce
from assistant.session import Overrides
from assistant.speech.caption_lines import CaptionLines
from assistant.speech.types import CaptionEvent
from assistant.vision.image import load_image
from ui.appearance import PRESETS, WCAG_AA, contrast_ratio, preset, softened
from ui.captions import caption_html
from ui.command_table import COMMANDS
from ui.commands import ShortcutConflictError
from ui.controller import AppController
from ui.overlay import CaptionOverlay
from ui.settings import Key, Settings
from ui.settings_dialog import SettingsDialog

QUIET_SECONDS = 5_000  # ms: the longest any wait here may take on a busy 2-core machine


@pytest.fixture
def controller(qtbot: Any, settings: Settings) -> Any:
    app = AppController(settings, Overrides(captions_at_start=False))
    app.start(load_models=False)
    app.window.show()
    _activate(qtbot, app.window)
    yield app
    app.shutdown()
    app.window.close()


def _activate(qtbot: Any, window: QWidget) -> None:
    """Shortcuts only fire in the active window, so wait until the window manager says it is."""
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=QUIET_SECONDS)


def _chord(sequence: QKeySequence) -> tuple[Qt.Key, Qt.KeyboardModifier]:
    combination = sequence[0]  # type: ignore[index]
    return combination.key(), combination.keyboardModifiers()


def test_every_command_is_reachable_by_its_default_shortcut(
    qtbot: Any, controller: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    # Each handler is replaced on the very object the command table bound it to (the real ones open file
    # dialogs or quit): a handler no command object has fails when the table is built (next test).
    targets = controller.command_objects
    for item in COMMANDS:
        for handler in (item.handler, item.release_handler):
            if handler is None:
                continue
            target = next(t for t in targets if getattr(type(t), handler.__name__, None) is handler)
            monkeypatch.setattr(target, handler.__name__, lambda name=handler.__name__: calls.append(name))
    monkeypatch.setattr(controller.actions, "interrupt", lambda: calls.append("interrupt"))
    for item in COMMANDS:
        calls.clear()
        key, modifiers = _chord(QKeySequence(item.shortcut))
        qtbot.keyClick(controller.window, key, modifiers)
        expected = [item.handler.__name__]
        if item.release_handler is not None:
            expected.append(item.release_handler.__name__)
        assert [c for c in calls if c != "interrupt"] == expected, item.id
        assert calls[0] == "interrupt", "every command silences speech first"


def test_a_command_whose_handler_has_no_object_fails_when_the_table_is_built(
    qtbot: Any, settings: Settings
) -> None:
    from ui.commands import Command, CommandActions
    from ui.vision_commands import VisionCommands

    window = QWidget()
    qtbot.addWidget(window)
    orphan = Command("orphan", "Orphan", "Has no object.", "F7", VisionCommands.describe_now, "Vision")
    with pytest.raises(LookupError, match="VisionCommands.describe_now"):
        CommandActions(settings, [orphan], [object()], lambda: None, window)


def test_describe_shortcut_runs_the_real_command_and_explains_a_missing_camera(
    qtbot: Any, controller: Any
) -> None:
    with qtbot.waitSignal(controller.description_ready, timeout=QUIET_SECONDS) as blocker:
        qtbot.keyClick(
            controller.window,
            Qt.Key.Key_D,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
    assert "No camera picture" in blocker.args[0]
    assert "Connect a camera" in controller.window.description.toPlainText()


def test_overlay_shortcut_toggles_the_overlay(qtbot: Any, controller: Any) -> None:
    chord = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(controller.window, Qt.Key.Key_O, chord)
    qtbot.waitUntil(controller.overlay.isVisible, timeout=QUIET_SECONDS)
    qtbot.keyClick(controller.window, Qt.Key.Key_O, chord)
    qtbot.waitUntil(lambda: not controller.overlay.isVisible(), timeout=QUIET_SECONDS)


def test_conflicting_and_reserved_shortcuts_are_refused(controller: Any, tmp_path: Path) -> None:
    actions = controller.actions
    with pytest.raises(ShortcutConflictError, match="Detailed description"):
        actions.set_shortcut("describe_now", QKeySequence("Ctrl+Shift+E"))
    for reserved in ("Alt+F4", "Meta+D", "Ins", "Alt+Tab"):
        with pytest.raises(ShortcutConflictError):
            actions.set_shortcut("describe_now", QKeySequence(reserved))
    assert actions.shortcut("describe_now") == QKeySequence("Ctrl+Shift+D")
    actions.set_shortcut("describe_now", QKeySequence("F7"))
    assert actions.actions["describe_now"].shortcut() == QKeySequence("F7")
    reopened = Settings(tmp_path / "settings.ini")
    assert reopened.shortcut("describe_now") == "F7"


def test_default_shortcuts_are_unique_and_avoid_system_keys(controller: Any) -> None:
    actions = controller.actions
    for item in COMMANDS:
        actions.check_shortcut(item.id, QKeySequence(item.shortcut))  # raises on any clash
    assert "Control Shift D" in " ".join(actions.help_lines())


def test_partial_caption_is_shown_distinct_and_replaced_by_final_text(qtbot: Any, controller: Any) -> None:
    controller.captions.toggle_overlay()
    partial = CaptionEvent("partial", "ask not what", 0.0, 1.0, 1.0)
    controller.captions.show_caption(partial)  # the slot CaptionWorker.caption is connected to
    shown = controller.overlay.label.text()
    assert "<i" in shown and "ask not what" in shown
    assert (
        "<i" in controller.window.caption_view.toHtml() or "italic" in controller.window.caption_view.toHtml()
    )
    controller.captions.show_caption(
        CaptionEvent("final", "Ask not what your country can do.", 0.0, 2.0, 2.0)
    )
    shown = controller.overlay.label.text()
    assert "Ask not what your country can do." in shown and "<i" not in shown
    assert controller.window.captions.lines == ["Ask not what your country can do."]


def test_the_partial_continues_the_last_line_or_starts_its_own() -> None:
    captions = CaptionLines()
    for kind, text, start, end in [
        ("final", "And so, my fellow Americans, ask not.", 0.0, 2.6),
        ("partial", "What your", 2.8, 3.2),  # a short breath: it continues the line
    ]:
        captions.apply(CaptionEvent(kind, text, start, end, end))  # type: ignore[arg-type]
    shown = caption_html(captions, 3, QColor("white"), QColor("grey"))
    assert shown.endswith('ask not.</span> <i style="color:#808080">What your</i>')
    captions.apply(CaptionEvent("partial", "Ask what you", 6.0, 6.8, 6.8))  # after a pause: a line of its own
    shown = caption_html(captions, 3, QColor("white"), QColor("grey"))
    assert shown.endswith('<br><i style="color:#808080">Ask what you</i>')


def test_overlay_keeps_the_last_lines_and_moves_by_keyboard(qtbot: Any, settings: Settings) -> None:
    settings.set(Key.OVERLAY_LINES, 2)
    overlay = CaptionOverlay(settings)
    qtbot.addWidget(overlay)
    for index in range(4):  # four sentences, each after a pause: four lines
        start = 3.0 * index
        overlay.on_caption(CaptionEvent("final", f"Line {index}.", start, start + 1, start + 1))
    text = overlay.label.text()
    assert "Line 0" not in text and "Line 1" not in text and "Line 2" in text and "Line 3" in text
    overlay.show()
    qtbot.waitExposed(overlay)
    start, size = overlay.pos(), overlay.size()
    qtbot.keyClick(overlay, Qt.Key.Key_Right)
    qtbot.keyClick(overlay, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert overlay.pos().x() == start.x() + 20
    assert overlay.height() == size.height() + 20
    assert settings.get(Key.OVERLAY_POSITION) == "remembered"
    assert settings.overlay_geometry() is not None


def test_settings_persist_typed_to_a_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "s.ini"
    first = Settings(path)
    assert first.get(Key.OVERLAY_LINES) == 3 and first.get(Key.TRANSLATE) is False
    first.set(Key.OVERLAY_LINES, 5)
    first.set(Key.TRANSLATE, True)
    first.set(Key.NARRATION_GAP, 4.5)
    first.set(Key.MICROPHONE, "system")
    first.sync()
    again = Settings(path)
    assert again.get(Key.OVERLAY_LINES) == 5
    assert again.get(Key.TRANSLATE) is True
    assert again.get(Key.NARRATION_GAP) == 4.5
    assert again.get(Key.MICROPHONE) == "system"
    assert again.file_name == str(path)


def test_settings_dialog_writes_what_the_user_chose(qtbot: Any, controller: Any) -> None:
    dialog = SettingsDialog(
        controller.settings, controller.actions, controller.output.note, None, controller.window
    )
    qtbot.addWidget(dialog)
    dialog.editors[Key.OVERLAY_LINES].setValue(7)  # type: ignore[attr-defined]
    dialog.accept()
    assert controller.settings.get(Key.OVERLAY_LINES) == 7


def _interactive(widget: QWidget) -> bool:
    if not widget.isVisible() or widget.focusPolicy() == Qt.FocusPolicy.NoFocus:
        return False
    parent = widget.parentWidget()
    # The line edit inside a spin box or key editor is part of its parent's control, which carries the name.
    return not isinstance(parent, (QAbstractSpinBox, QKeySequenceEdit))


def test_every_interactive_widget_has_an_accessible_name(qtbot: Any, controller: Any) -> None:
    controller.captions.toggle_overlay()
    dialog = SettingsDialog(
        controller.settings, controller.actions, controller.output.note, None, controller.window
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    controller.general.keyboard_help()
    nameless = []
    windows = [controller.window, controller.overlay, dialog, controller.general.help_dialog]
    for page in range(dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(page)
        for window in windows:
            for widget in [window, *window.findChildren(QWidget)]:
                if not _interactive(widget):
                    continue
                interface = QAccessible.queryAccessibleInterface(widget)
                name = interface.text(QAccessible.Text.Name) if interface is not None else ""
                if not name.strip():
                    nameless.append(
                        f"{type(widget).__name__} {widget.objectName()!r} in {window.objectName()}"
                    )
    assert not nameless, nameless


def test_caption_colours_meet_wcag_aa() -> None:
    for name in PRESETS:
        text, background = preset(name)
        assert contrast_ratio(text, background) >= 7.0, name
        partial = softened(text, background)
        assert contrast_ratio(partial, background) >= WCAG_AA, name
        assert partial != text, f"{name}: partial text must look different"


def test_in_screen_reader_mode_results_interrupt_and_captions_come_as_sentences(
    qtbot: Any, controller: Any, test_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posted: list[tuple[str, Any, bool]] = []
    real_post = ui.announce._post

    def watch(event: Any) -> None:
        on_gui_thread = threading.current_thread() is threading.main_thread()
        posted.append((event.message(), event.politeness(), on_gui_thread))
        real_post(event)

    monkeypatch.setattr(ui.announce, "_post", watch)
    monkeypatch.setenv("SPEECHD_ADDRESS", "unix_socket:/nonexistent/speechd.sock")  # no speech-dispatcher
    controller.settings.set(Key.VOICE_OUTPUT, "screen reader")
    controller.settings.set(Key.ANNOUNCE_CAPTIONS, True)
    controller.output.apply_settings()
    qtbot.waitUntil(lambda: controller.output.route is not None, timeout=QUIET_SECONDS)
    with qtbot.waitSignal(controller.description_ready, timeout=20_000) as blocker:
        controller.vision.describe_path(str(test_data / "images" / "skimage_coffee.png"))
    description = blocker.args[0]
    assert description
    assert (description, QAccessible.AnnouncementPoliteness.Assertive, True) in posted

    posted.clear()
    for text, start, end in [
        ("And so, my", 0.0, 0.8),
        ("fellow Americans,", 0.8, 1.6),
        ("ask not.", 1.6, 2.2),
    ]:
        controller.captions.show_caption(CaptionEvent("final", text, start, end, end))
    said = [
        message
        for message, politeness, _ in posted
        if politeness == QAccessible.AnnouncementPoliteness.Polite
    ]
    assert "And so, my fellow Americans, ask not." in said
    assert not any(
        len(message.split()) < 4 for message in said if "ask not" in message or "fellow" in message
    )


def test_a_speakers_pause_inside_a_sentence_does_not_cut_what_the_screen_reader_says(
    qtbot: Any, controller: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []  # what the screen reader is given of the captions (status lines left out)
    captions = ("Ask what", "country", "and then")
    monkeypatch.setattr(
        ui.announce,
        "_post",
        lambda event: said.append(event.message()) if any(c in event.message() for c in captions) else None,
    )
    monkeypatch.setenv("SPEECHD_ADDRESS", "unix_socket:/nonexistent/speechd.sock")  # no speech-dispatcher
    controller.settings.set(Key.VOICE_OUTPUT, "screen reader")
    controller.settings.set(Key.ANNOUNCE_CAPTIONS, True)
    controller.output.apply_settings()
    qtbot.waitUntil(lambda: controller.output.route is not None, timeout=QUIET_SECONDS)
    # JFK's pause before "for your country": 1.2 s of audio, and longer than a pause on the clock.
    controller.captions.show_caption(CaptionEvent("final", "Ask what you can do", 0.0, 1.5, 1.5))
    qtbot.wait(1500)
    assert said == [], "a sentence the recogniser has not ended waits for its end"
    controller.captions.show_caption(CaptionEvent("final", "for your country.", 2.7, 3.6, 3.6))
    qtbot.waitUntil(lambda: bool(said), timeout=5_000)
    assert said == ["Ask what you can do for your country."]
    # With no end at all, what was said is not lost: it is said after the longer wait.
    controller.captions.show_caption(CaptionEvent("final", "and then", 10.0, 10.6, 10.6))
    qtbot.waitUntil(lambda: len(said) == 2, timeout=5_000)
    assert said[1] == "and then"


def _camera_video(path: Path, test_data: Path) -> Path:
    from tests.helpers.video import make_scene_video

    photo = load_image(test_data / "images" / "skimage_astronaut.png")
    # 30 s: longer than the test, so the camera is still running at shutdown
    return make_scene_video(path, [photo], seconds_each=30.0, size=(320, 240))


def test_captions_from_a_speech_file_reach_the_window_and_transcript(
    qtbot: Any, controller: Any, test_data: Path, tmp_path: Path
) -> None:
    from assistant.speech.live import build_live_captioner

    speech = str(test_data / "speech" / "jfk.flac")

    def factory(on_event: Any, on_status: Any) -> Any:
        return build_live_captioner(speech, realtime=False, on_event=on_event, on_status=on_status)

    transcript = tmp_path / "captions.txt"
    controller.captions.start_transcript(str(transcript))
    handle = controller.captions.start_captions_with(factory)
    qtbot.waitUntil(lambda: not handle.is_running(), timeout=60_000)
    text = " ".join(controller.window.captions.lines).lower()
    assert "what your country can do for you" in text
    qtbot.waitUntil(lambda: "country" in transcript.read_text().lower(), timeout=QUIET_SECONDS)


@pytest.mark.timing
def test_shutdown_with_busy_workers_is_fast_and_leaves_no_thread(
    qtbot: Any, controller: Any, test_data: Path, tmp_path: Path
) -> None:
    from assistant.speech.live import build_live_captioner

    before = {thread.ident for thread in threading.enumerate()}
    controller.vision.start_camera(str(_camera_video(tmp_path / "camera.avi", test_data)))
    qtbot.waitUntil(lambda: controller.frames.peek() is not None, timeout=QUIET_SECONDS)
    controller.vision.toggle_narration()
    speech = str(test_data / "speech" / "jfk.flac")
    listening = threading.Event()

    def factory(on_event: Any, on_status: Any) -> Any:
        def status(message: str) -> None:
            if message.startswith("listening"):
                listening.set()
            on_status(message)

        return build_live_captioner(speech, realtime=True, on_event=on_event, on_status=status)

    controller.captions.start_captions_with(factory)
    qtbot.waitUntil(listening.is_set, timeout=30_000)
    controller.vision.describe_now()  # a one-off job in flight as well
    handles = list(controller.streams.handles.values())
    assert {"camera", "narration", "captions"} <= set(controller.streams.handles)

    started = time.monotonic()
    clean = controller.shutdown()
    elapsed = time.monotonic() - started

    print(f"shutdown took {elapsed:.3f} s")
    assert clean and elapsed < 2.0, f"shutdown took {elapsed:.2f} s"
    assert all(handle.qthread.isFinished() for handle in handles)
    assert controller.jobs.busy() == 0
    left = [t.name for t in threading.enumerate() if t.ident not in before and not t.daemon and t.is_alive()]
    left = [name for name in left if not name.startswith("Dummy")]
    assert not left, left


def test_a_question_asked_by_voice_is_heard_and_answered(
    qtbot: Any, settings: Settings, tmp_path: Path
) -> None:
    from tests.helpers.speech import espeak_wav

    spoken = espeak_wav("What colour is this shirt?", tmp_path / "question.wav")
    app = AppController(settings, Overrides(captions_at_start=False, audio=str(spoken)))
    app.start(load_models=False)
    app.window.show()
    _activate(qtbot, app.window)
    try:
        red_shirt = np.zeros((240, 320, 3), np.uint8)
        red_shirt[:, :] = (200, 20, 30)
        app.frames.put(red_shirt)
        key, modifiers = _chord(app.actions.shortcut("ask_voice"))
        with qtbot.waitSignal(app.description_ready, timeout=60_000) as answered:
            qtbot.keyPress(app.window, key, modifiers)
            qtbot.waitUntil(lambda: app.vision.voice_question_active, timeout=QUIET_SECONDS)
            qtbot.wait(300)
            qtbot.keyRelease(app.window, key, modifiers)
        heard = app.window.question.text().lower()
        assert "colo" in heard and "shirt" in heard, heard
        assert "red" in answered.args[0].lower()  # the answer is about this picture (quick cues here)
    finally:
        app.shutdown()
        app.window.close()


def test_the_captions_view_only_appends_and_leaves_the_readers_caret_where_it_was(
    qtbot: Any, controller: Any
) -> None:
    view = controller.window.caption_view
    show = controller.captions.show_caption
    show(CaptionEvent("final", "First sentence here.", 0.0, 1.0, 1.0))
    show(CaptionEvent("final", "Second line after a pause.", 3.0, 4.0, 4.0))
    caret = view.textCursor()
    caret.setPosition(6)  # a screen reader user reviewing the first line with the arrow keys
    view.setTextCursor(caret)
    rewrites: list[int] = []
    view.document().contentsChange.connect(lambda at, removed, added: rewrites.append(removed))
    show(CaptionEvent("partial", "and then", 4.1, 4.5, 4.5))
    show(CaptionEvent("partial", "and then some more", 4.1, 5.0, 5.0))
    show(CaptionEvent("final", "and then some more.", 4.1, 5.2, 5.2))
    assert view.textCursor().position() == 6
    assert view.toPlainText() == "First sentence here.\nSecond line after a pause. and then some more."
    assert max(rewrites) <= len(" and then some more")  # only the partial is ever replaced
    assert "italic" not in view.toHtml()  # the final replaced the partial


def test_a_smoke_alarm_cannot_be_missed_banner_marker_line_history_and_transcript(
    qtbot: Any, settings: Settings, tmp_path: Path
) -> None:
    from tests.helpers.alert_mix import t3_alarm
    from tests.helpers.speech import write_wav

    rng = np.random.default_rng(3)
    alarm = np.concatenate([np.zeros(8000, np.float32), 0.3 * t3_alarm(3100.0, rng, cycles=3)])
    sound = write_wav(tmp_path / "alarm.wav", alarm)
    app = AppController(settings, Overrides(captions_at_start=False, audio=str(sound)))
    app.start(load_models=False)
    app.window.show()
    _activate(qtbot, app.window)
    transcript = tmp_path / "captions.txt"
    app.captions.start_transcript(str(transcript))
    try:
        app.captions.toggle_overlay()
        app.alerts.toggle_alerts()  # captions are off: the alerts open the source themselves
        qtbot.waitUntil(app.window.alert_banner.isVisible, timeout=30_000)
        assert "Smoke alarm" in app.window.alert_banner.text()
        assert "Smoke alarm" in app.window.sound_history.item(0).text()
        assert "[Smoke alarm]" in app.window.caption_view.toPlainText().splitlines()
        assert "[Smoke alarm]" in app.overlay.label.text()
        qtbot.waitUntil(lambda: "[Smoke alarm]" in transcript.read_text(), timeout=QUIET_SECONDS)
        qtbot.waitUntil(lambda: not app.alerts.wanted, timeout=30_000)  # the alarm file has ended
        app.actions.actions["dismiss_alert"].trigger()  # its key is checked with every other one above
        assert not app.window.alert_banner.isVisible()
    finally:
        app.shutdown()
        app.window.close()
