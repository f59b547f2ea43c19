"""Audio input: sources (microphone, system audio, files) and voice activity detection."""
