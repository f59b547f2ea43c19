"""Voice output: the speech controller and its engines."""
