"""Speech recognition: engines, the streaming transcriber and transcripts."""
