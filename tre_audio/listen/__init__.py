"""Listening: the finished sessions, their podcast feed, the private web server and its page."""

DEFAULT_PORT = 8737
"""The port ``serve`` listens on unless told otherwise (here, so that the command line
knows it without loading the web server)."""
