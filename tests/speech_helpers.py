"""Moved to `tests.helpers.speech`; kept only while `tests/test_ui_app.py` (being reworked at the same
time) still imports it from here. Delete once nothing does."""

from tests.helpers.speech import espeak_wav, feed, final_text, silence, write_wav

__all__ = ["espeak_wav", "feed", "final_text", "silence", "write_wav"]
