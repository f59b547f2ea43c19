"""pyttsx3's driver package, for the fake machine without eSpeak NG (see `tests/fakes/no_espeak`)."""
