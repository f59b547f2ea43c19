"""The Qt shell: windows, commands, settings and the workers that run the core off the GUI thread."""
