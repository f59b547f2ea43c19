"""On-device accessibility assistant: the core, which knows no screen."""

import os

__version__ = "0.1.0"

# WORKAROUND: ONNX Runtime (1.29 and later, used by the voice activity detector, OCR and the sound
# models) sends usage telemetry to Microsoft from Linux and macOS too (its 1DS uploader looks up
# mobile.events.data.microsoft.com from its own C++ thread, which Python's socket audit never sees).
# An assistant that promises nothing leaves the machine must not; the variable is read once, when ONNX
# Runtime starts, so it is set here, before any module can import it. A user who sets it keeps theirs.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
