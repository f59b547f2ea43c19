"""On-device accessibility assistant: the core, which knows no screen."""

__version__ = "0.1.0"
