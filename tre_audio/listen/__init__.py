"""Listening: the finished sessions, their podcast feed, the private web server and its page."""
