"""The test harness: everything tests, `bench/` and `scripts/` share, and nothing that is a test.

- `data`: where the carried evaluation data lives (`tests/data`) and loading its photos.
- `polling`: `poll_until`, the one way to wait on something that sends no signal.
- `video`: the one video writer, and the scene, pan and camera videos built on it.
- `speech`: speech made with espeak-ng, silence, feeding audio through a streaming transcriber.
- `pulse`: a private PulseAudio server (also the pytest plugin behind the `pulse_server` fixture),
  and `voice_environment` for the app's voice.
- `x11`: a private Xvfb display and a user's hands on it (XTEST keys, window grabs).
- `app_process`: the real app in its own process, followed through its trace.
- `tiny_models`: tiny random vision-language models, saved like a real download.
- `whisper_checkpoint`: the openai-whisper checkpoint of tiny.en, built from the CTranslate2 one.

None of these needs pytest except `pulse` (which skips a test when PulseAudio cannot run) and
`speech.espeak_wav` (which skips without espeak-ng).
"""
