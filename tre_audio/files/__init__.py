"""The user's files: read bounded (regular files only), TOML with line numbers, written whole or not at all."""
