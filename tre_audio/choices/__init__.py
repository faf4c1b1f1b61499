"""Where a session's options come from: the profile, a plan file and the command line, in layers."""
