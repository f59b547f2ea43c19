"""Getting the models and the model server ready in the background, at start and after a change: the
window works at once, and the status says what is loading, what is missing and what to do about it."""

from __future__ import annotations

from PySide6.QtCore import QObject

from assistant.session import Session
from ui.output import Output
from ui.workers import JobRunner


class ModelStartup(QObject):
    def __init__(self, session: Session, output: Output, jobs: JobRunner, parent: QObject) -> None:
        super().__init__(parent)
        self._session = session
        self._output = output
        self._jobs = jobs

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

    def _on_scene_model_failed(self, message: str) -> None:
        self._output.status(
            f"{message} Until then, descriptions use quick cues (light, colour, faces, text)."
        )

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
