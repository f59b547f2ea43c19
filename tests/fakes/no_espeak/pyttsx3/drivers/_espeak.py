"""Stands for pyttsx3's ctypes binding to libespeak-ng when the library is not installed: the real
module tries its list of library paths at import time and raises exactly this error."""

raise RuntimeError("This means you probably do not have eSpeak or eSpeak-ng installed!")
