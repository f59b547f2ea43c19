"""Sound alerts for people who cannot hear them: alarms, taught sounds and household sounds.

- `spectrum`: the one short-time spectrum (and tone prominence) every detector reads.
- `alarms`: smoke (T3) and carbon-monoxide (T4) alarms by their rhythm, without a model.
- `taught`: sounds the user teaches from 1-5 recordings, and the library that keeps them.
- `types`: `AlertEvent` and the alarm names.
"""
