"""Vision: frames, scene description, quick cues, text reading and narration."""
