"""Getting the models and the model server ready in the background, at start and after a change: the
window works at once, and the status says what is loading, what is missing and what to do about it.
On the first run on a computer it also measures which speech model keeps up here, and says it once."""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import QObject

from assistant.session import Session
from assistant.speech.suggest import Suggestion, first_run_suggestion
from ui.output import Output
from ui.workers import JobRunner

log = logging.getLogger("ui.model_startup")

MEASURE_SWITCH = "ASSISTANT_MEASURE_SPEECH_MODELS"
"""Set to 0 to skip the first-run measurement (the tests do: it loads the CPU for seconds and adds a
status line that the screen-reader tests do not expect)."""


class ModelStartup(QObject):
    def __init__(self, session: Session, output: Output, jobs: JobRunner, parent: QObject) -> None:
        super().__init__(parent)
        self._session = session
        self._output = output
        self._jobs = jobs
        self._suggestion_started = False

    def load_scene_model(self) -> None:
        """Load the scene model in the background; until it is there, descriptions use quick cues."""
        model = self._session.config.scene_model
        self._output.status(f"loading the scene model {model}")
        self._jobs.submit(
            "describer", self._session.scene.load, self._on_scene_model_ready, self._on_scene_model_failed
        )

    def _on_scene_model_ready(self, describer: object) -> None:
        self._output.status(f"scene model {getattr(describer, 'model_name', '') or 'ready'} loaded")
        self._output.speak("Scene model ready.")
        self.suggest_speech_model()

    def _on_scene_model_failed(self, message: str) -> None:
        self._output.status(
            f"{message} Until then, descriptions use quick cues (light, colour, faces, text)."
        )
        self.suggest_speech_model()

    def suggest_speech_model(self) -> None:
        """On the first run on this computer (no measurements stored yet), time the installed speech
        models in the background, after the scene model has loaded so the two do not share the CPU,
        and say once which one keeps up with live captions. Later runs read nothing and say nothing."""
        if self._suggestion_started or os.environ.get(MEASURE_SWITCH, "1") == "0":
            return
        self._suggestion_started = True
        config = self._session.config
        english = config.language == "en"
        self._jobs.submit(
            "speech-speed",
            lambda: first_run_suggestion(english=english),
            self._on_speech_suggestion,
            lambda message: log.warning("model startup: could not measure the speech models: %s", message),
        )

    def _on_speech_suggestion(self, suggestion: Suggestion | None) -> None:
        if suggestion is None or suggestion.model is None:
            return
        text = suggestion.message
        current = self._session.config.model
        if suggestion.model != current:
            text += f" You use {current}: choose {suggestion.model} in Settings, Models and engines."
        self._output.status(text)

    def prepare_server(self) -> None:
        """When a model server is set, get it ready in the background (its key, client and model) and
        say so in the status; when it cannot be reached, say that everything is answered here for now."""
        if not self._session.config.server_url:
            return
        self._jobs.submit(
            "server",
            self._session.prepare_server,
            self._output.status,
            lambda message: self._output.status(f"{message} Until it answers, this computer answers."),
        )
