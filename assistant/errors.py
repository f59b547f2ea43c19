"""Errors the user can act on.

Every failure that reaches a person (a missing model, a device that vanished, a corrupt file) is an
`AssistantError` whose message names the problem and what to do about it, so the command line and the
window can show it as one clear line and carry on.
"""

from __future__ import annotations


class AssistantError(Exception):
    """A problem with a plain-language message that names the cause and the fix."""


class ModelNotFoundError(AssistantError):
    """A model is not installed where we looked; the message says where and how to get it."""


class AudioInputError(AssistantError):
    """An audio input is missing, busy, unreadable, or disappeared."""


class DeviceLostError(AudioInputError):
    """A live device stopped delivering audio; callers may retry until it returns."""


class EndOfAudio(Exception):  # noqa: N818 - the end of a stream, like StopIteration: not an error
    """A finite source (a file) has delivered all of its audio. Not an error."""
