"""Composing the narration: options -> Jinja templates -> script text -> events -> a timed plan."""
