"""The options of a session: paces, levels, sound and text checks (the bottom layer: it imports no stage)."""
