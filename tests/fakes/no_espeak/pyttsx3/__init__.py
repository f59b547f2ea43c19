"""Stands for pyttsx3 on a machine without eSpeak NG: the real package imports fine, and loading its
eSpeak driver fails because `libespeak-ng.so.1` cannot be loaded.

Put `tests/fakes/no_espeak` first on PYTHONPATH of a child process to get that machine; a process that has
already loaded the real library cannot unload it, so this is only used in subprocesses.
"""


def init(driverName=None, debug=False):  # noqa: N803 - pyttsx3's signature
    from pyttsx3.drivers import _espeak  # noqa: F401 - raises, as the real driver import does

    raise AssertionError("unreachable: the driver import above fails")
