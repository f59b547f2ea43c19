"""Sound alerts for people who cannot hear them: alarms, taught sounds and household sounds.

- `alerts`: the public face. `AlertDetectors` (every detector over one stream: `process(chunk)` returns
  `AlertEvent`s), `AlertSettings` (per-sound on/off, sensitivity, snooze), `AlertListener` (a source run
  through the detectors on a worker thread) and `build_alert_detectors`.
- `spectrum`: the one short-time spectrum (and tone prominence) every detector reads.
- `alarms`: smoke (T3) and carbon-monoxide (T4) alarms by their rhythm, without a model.
- `taught`: sounds the user teaches from 1-5 recordings, and the library that keeps them.
- `classifier`: household sounds with an AudioSet classifier (AST) from the model store.
- `types`: `AlertEvent` and the alarm names.
"""
